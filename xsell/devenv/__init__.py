"""The development environment (harness): throw-away local servers, the synthetic shop, and
`xsell demo` with its shop page. Not in the wheel."""

"""Redis state of xsell: key layout, Lua scripts, and the async store."""

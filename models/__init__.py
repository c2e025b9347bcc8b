"""Pure domain logic of xsell: event schemas, co-occurrence maths, ranking and rules.

Nothing in this package does I/O; everything here is unit-testable with plain values.
"""

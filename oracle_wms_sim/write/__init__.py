"""The write side of the entity module: POST and PATCH routes (`Writes`), the checks of written
values, PATCH's writable fields and status rules, inventory adjustments and creation with their
history rows, oblpn shipping, and bulk operations with `commit_frequency`.
"""

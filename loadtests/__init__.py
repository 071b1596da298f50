"""Everything Locust: the arrival-rate driver, publishers, shapes, the capplan plugin and locustfiles.

Importing this package does not import Locust; its submodules do.
"""

"""The built-in demo messaging service and reference consumers, with known capacity C/S."""

"""Shared foundations: errors, seeding, poses and config loading."""

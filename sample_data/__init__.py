"""Seeded sample data: facility registry, shipment feed with real-world noise, answer key."""

"""Seeded sample data: facility registry, shipment feed and answer key."""

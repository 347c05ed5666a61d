"""Feed readers, mapping profiles, normalisation, quarantine and loading into the registry."""

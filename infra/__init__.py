"""aidc core: configuration, catalogs, CIDR planning and the offline engine."""

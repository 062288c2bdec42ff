"""homelab-hub: an event-driven monitoring hub for homelabs."""

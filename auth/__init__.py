"""Who the viewer is, and what the viewer may see: every privacy rule lives in auth.policy."""

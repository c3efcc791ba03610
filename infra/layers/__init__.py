"""The platform as layered stacks: their published contracts (`contracts`)."""

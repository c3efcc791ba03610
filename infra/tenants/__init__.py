"""Tenancy on the accelerator fleet: the allocation model that turns the pools' capacity and the
teams' claims into queue quotas (`allocation`)."""

"""`aidc check`: the policy pack driven over the Pulumi analyzer protocol, offline."""

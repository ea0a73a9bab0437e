"""The twin's workflow around the pure policy core: deciding (and logging), queueing approvals,
and the one funnel through which anything is executed."""

"""opsuite up and opsuite status: the supervisor of the whole suite, and where each service stands."""

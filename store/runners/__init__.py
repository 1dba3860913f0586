"""The runners system (seed 004) keeps no table of its own: a runner is its job. What the platform
applied to each runner's container is kept in `resource_states` (kind `runner`) for the drift
observer."""

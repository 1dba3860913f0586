"""Tests of the local cloud, through the official Google clients."""

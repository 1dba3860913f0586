"""The ops assistant's tables (seed 002): console users, conversations and their messages, config."""

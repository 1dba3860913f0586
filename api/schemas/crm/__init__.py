"""Request and response shapes of the CRM system (seed 003), with the seed's Spanish field names."""

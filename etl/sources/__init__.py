"""Platform sources: small declarations on top of the shared HTTP client."""

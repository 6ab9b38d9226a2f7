"""Who is calling: API keys, user tokens, and the principal the middleware passes down through the scope."""

"""Who is calling and how much they may: principals, API keys, user tokens, sign-in links, rate limits, and the
ASGI middleware that applies them to every request under /api and /graphql."""

"""CoursePipeline: course variables and per-learner values over REST and GraphQL."""

__version__ = "0.1.0"

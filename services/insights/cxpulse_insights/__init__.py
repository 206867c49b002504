"""cxpulse insights: quality scorecards, agent coaching figures, journey analytics and the supervisor dashboard."""

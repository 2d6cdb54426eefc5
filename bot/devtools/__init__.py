"""Local tools: the fake Slack that the tests and `rapport try` talk to."""

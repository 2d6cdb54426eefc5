"""What every listener shares, at the edge between Slack and the features:

- `middleware.py`: the request middleware every app runs first: admission
  (`response_urls.py`, also the one `respond`), who is calling (`caller.py`: the team,
  user and enterprise of any payload), the deps (`context.py`: settings, sessions, the
  clock, whose calendar), the command text as typed, and one answer to a request
  Slack delivers twice (`replays.py`).
- `errors.py`: the one error handler, before and after the ack.
- `after_ack.py`: the one guarded runner for work after an ack, on the pool of
  `pool.py`; `home_tab.py`: App Home published again after a change.
- Reading and answering: `parsing.py` (command text), `accounts.py` (the account a
  command or modal names, and the *Did you mean …?* question), `account_target.py`
  (the account a modal or button is about), `replies.py` (reply shapes), `sharing.py`
  (posting an entry to the account's channel).

Nothing here imports a feature module (handlers/*.py); they all import from here.
"""

from __future__ import annotations

from slack_bolt import App

from handlers.edge import after_ack, errors, middleware
from handlers.edge.context import Deps


def install(app: App, deps: Deps) -> None:
    """The edge, before any feature registers its listeners: the middleware, the error
    handler, and the guarded runner for Bolt's lazy listeners."""
    middleware.use_middleware(app, deps)
    app.error(errors.handle_error)
    after_ack.install(app)

"""The background pipeline: plan what is due, group it into messages, deliver them
through the outbox, and the weekly digest; `clock` wires it to APScheduler."""

"""E-mail: every message's French text in one place, and the outbox written in each action's transaction.
May import core.shared and db."""

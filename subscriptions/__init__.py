"""Users, their organisation, permission grants and subscriptions: who may hear of what."""

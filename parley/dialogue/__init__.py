"""The dialogue engine: events, tracker, slots, actions, policies and the turn loop."""

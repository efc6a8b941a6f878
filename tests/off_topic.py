"""Questions about topics no test assistant covers, written for the tests (none of them is in
parley/nlu/data/background_en.txt, which tests/nlu/test_in_domain.py checks)."""

OTHER_TOPICS = (
    "who was the second man on the moon",
    "how do I change a flat tyre",
    "what's a good recipe for lasagna",
    "can you explain how vaccines work",
    "i need to renew my passport",
    "which stocks should i buy this year",
    "how far is the moon from earth",
    "my washing machine is leaking",
    "translate good luck into japanese",
    "what time does the pharmacy close",
)

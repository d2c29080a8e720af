"""Sentence triplets for paraphrase ranking: (sentence, paraphrase, look-alike distractor).

``TRIPLETS``: the distractor shares the sentence's key words or frame.
``REORDERED``: harder - the distractor reuses the sentence's own words in
another order or role, which defeats any model that pools word meanings.

The distractor shares the sentence's key words or frame but means something else;
a good sentence embedding ranks the paraphrase closer. Written for these
tests (40 + 20 triplets, everyday topics), used by ``test_embedding_quality.py``.
"""

from __future__ import annotations

TRIPLETS: list[tuple[str, str, str]] = [
    (
        "The cat sat on the mat.",
        "A kitten was resting on the rug.",
        "The cat sat on the fence and watched the mat factory.",
    ),
    (
        "I prefer coding in Python.",
        "Python is my favourite programming language.",
        "I prefer to avoid pythons at the zoo.",
    ),
    (
        "The meeting was moved to Thursday.",
        "We rescheduled the meeting for Thursday.",
        "The Thursday market moved to a new square.",
    ),
    (
        "She bought a new car last week.",
        "Last week she purchased a new vehicle.",
        "She washed her old car last week.",
    ),
    (
        "The store closes at nine tonight.",
        "Tonight the shop shuts at 9 pm.",
        "The store sells nine kinds of bread.",
    ),
    ("He is afraid of flying.", "Air travel scares him.", "He is flying to Rome tomorrow."),
    ("The soup is too salty.", "There is too much salt in the soup.", "The soup is too cold to eat."),
    ("My phone battery died.", "My mobile ran out of charge.", "My phone has a great camera."),
    (
        "The train was delayed by an hour.",
        "The train arrived sixty minutes late.",
        "The train ride takes an hour.",
    ),
    ("I can't find my keys.", "My keys are missing.", "I can play the keys on a piano."),
    (
        "The children are playing in the park.",
        "Kids are having fun at the playground.",
        "The children are sleeping in the car.",
    ),
    (
        "Prices have risen sharply this year.",
        "Things cost a lot more than they did last year.",
        "The sun has risen early this year.",
    ),
    (
        "The doctor told him to rest.",
        "He was advised by his physician to take it easy.",
        "The doctor told him a funny story.",
    ),
    ("It is raining heavily outside.", "There is a downpour out there.", "It is sunny outside today."),
    (
        "She speaks three languages fluently.",
        "She is fluent in three languages.",
        "She speaks to three friends every day.",
    ),
    (
        "The restaurant was fully booked.",
        "There were no free tables at the restaurant.",
        "The restaurant was fully renovated.",
    ),
    (
        "Turn off the lights when you leave.",
        "Switch the lights off on your way out.",
        "The lights turn on when you arrive.",
    ),
    ("The project deadline is tomorrow.", "The project is due tomorrow.", "The project started yesterday."),
    ("He lost his job last month.", "Last month he was laid off.", "He lost his wallet last month."),
    ("The movie was boring.", "The film was dull.", "The movie was filmed in Boston."),
    (
        "Can you help me with my homework?",
        "Would you assist me with my school assignment?",
        "Can you help me carry my bags?",
    ),
    ("The bank approved the loan.", "The loan was granted by the bank.", "We walked along the river bank."),
    (
        "The road is closed for repairs.",
        "The street is shut while it gets fixed.",
        "The road is long and winding.",
    ),
    ("I am allergic to peanuts.", "Peanuts give me an allergic reaction.", "I am addicted to peanut butter."),
    (
        "The flight was cancelled due to fog.",
        "Fog led to the flight being called off.",
        "The flight was comfortable and quiet.",
    ),
    (
        "Water boils at 100 degrees Celsius.",
        "At 100 °C water starts to boil.",
        "Water freezes at zero degrees Celsius.",
    ),
    ("My brother lives in Madrid.", "Madrid is where my brother lives.", "My brother works in a bakery."),
    (
        "The printer is out of paper.",
        "There is no paper left in the printer.",
        "The printer is new and fast.",
    ),
    (
        "She won the chess tournament.",
        "She came first in the chess competition.",
        "She lost the tennis match.",
    ),
    ("Please water the plants.", "Could you give the plants some water?", "Please buy bottled water."),
    (
        "The company hired ten new engineers.",
        "Ten engineers joined the firm.",
        "The company fired ten managers.",
    ),
    (
        "The museum is free on Sundays.",
        "On Sundays there is no charge to enter the museum.",
        "The museum is closed on Mondays.",
    ),
    (
        "He forgot his umbrella at the office.",
        "He left his umbrella at work.",
        "He bought an umbrella at the station.",
    ),
    ("The baby is sleeping.", "The infant is asleep.", "The baby is crying loudly."),
    ("Exercise improves your mood.", "Working out makes you feel better.", "Exercise books are sold here."),
    (
        "The bridge was painted red.",
        "They gave the bridge a red coat of paint.",
        "The bridge was built in 1900.",
    ),
    ("I need to renew my passport.", "My passport has to be renewed.", "I need to find my passport photo."),
    (
        "Coffee prices rose last year.",
        "Last year coffee got more expensive.",
        "Coffee shops opened last year.",
    ),
    ("The concert was sold out.", "All the concert tickets were sold.", "The concert was too loud."),
    (
        "The team celebrated their victory.",
        "The players partied after winning.",
        "The team mourned their defeat.",
    ),
]

REORDERED: list[tuple[str, str, str]] = [
    ("The cat sat on the mat.", "A kitten was resting on the rug.", "The mat sat on the cat."),
    (
        "I prefer coding in Python.",
        "Python is my favourite programming language.",
        "I prefer Python snakes to coding.",
    ),
    (
        "The meeting was moved to Thursday.",
        "We rescheduled the meeting for Thursday.",
        "Thursday was moved to the meeting room.",
    ),
    (
        "She bought a new car last week.",
        "Last week she purchased a new vehicle.",
        "She bought a new week for her last car.",
    ),
    ("The soup is too salty.", "There is too much salt in the soup.", "The salt is too soupy."),
    ("I can't find my keys.", "My keys are missing.", "I can find keys for you."),
    (
        "The doctor told him to rest.",
        "He was advised by his physician to take it easy.",
        "He told the doctor to rest.",
    ),
    (
        "She speaks three languages fluently.",
        "She is fluent in three languages.",
        "Three languages speak of her fluently.",
    ),
    (
        "Turn off the lights when you leave.",
        "Switch the lights off on your way out.",
        "Leave the lights on when you turn.",
    ),
    ("He lost his job last month.", "Last month he was laid off.", "Last month his job found him lost."),
    (
        "Can you help me with my homework?",
        "Would you assist me with my school assignment?",
        "Can my homework help you?",
    ),
    ("The bank approved the loan.", "The loan was granted by the bank.", "The river bank loaned us a boat."),
    ("I am allergic to peanuts.", "Peanuts give me an allergic reaction.", "Peanuts are allergic to me."),
    (
        "The flight was cancelled due to fog.",
        "Fog led to the flight being called off.",
        "The fog was cancelled due to the flight.",
    ),
    (
        "The printer is out of paper.",
        "There is no paper left in the printer.",
        "The paper printed itself out.",
    ),
    (
        "She won the chess tournament.",
        "She came first in the chess competition.",
        "The chess tournament won her over.",
    ),
    ("Please water the plants.", "Could you give the plants some water?", "Please plant the water."),
    (
        "The company hired ten new engineers.",
        "Ten engineers joined the firm.",
        "Ten companies hired the new engineer.",
    ),
    ("I need to renew my passport.", "My passport has to be renewed.", "My passport needs me to renew."),
    (
        "The team celebrated their victory.",
        "The players partied after winning.",
        "The victory celebrated the team.",
    ),
]

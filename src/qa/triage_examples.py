"""Labelled examples for triage by meaning: reports of an emergency said without keywords,
and look-alikes that only ask about one.

Written for this purpose, apart from the eval set (whose questions are never copied
here). ``triage.MeaningTriage`` compares a question's embedding with these.
"""

from __future__ import annotations

EMERGENCY_REPORTS: tuple[str, ...] = (
    "she took a whole lot of her tablets at once and now she is very drowsy",
    "my dad swallowed most of the pack and is slurring and sleepy",
    "I just took way more pills than I was supposed to",
    "my son ate some of the tablets from my handbag",
    "the toddler got into the medicine cabinet and swallowed some capsules",
    "I took thirty of my sleeping tablets",
    "he took about 15 of his pills with beer and is not making sense",
    "I have taken a big amount of my medication and I feel really weird",
    "my wife took extra doses all day and now she is confused and shaking",
    "my partner is breathing very slowly after taking a lot of his painkillers",
    "her lips look grey and she took loads of her tablets",
    "my friend emptied the bottle of pills and is falling asleep",
    "we found my brother next to an empty blister pack and he is very pale",
    "my mum won't respond to us and there are pills everywhere",
    "I can't get my husband to answer me, he took something",
    "he is barely breathing and won't open his eyes",
    "my heart is pounding and I feel like I'm going to pass out after too many tablets",
    "I swallowed the rest of the bottle an hour ago and feel sick and dizzy",
    "my teenager took a fistful of her antidepressants",
    "my grandfather took his week of pills in one go by mistake and is vomiting",
    "I accidentally took my dose five times today and my chest feels tight",
    "my baby drank some of the liquid medicine and is very floppy",
    "she had a lot more ketamine than usual and now she is not moving",
    "he mixed his tablets with vodka and is hard to wake",
    "my sister is limp and not answering after taking her medication",
    "I took a double handful of paracetamol and my stomach hurts badly",
    "my dad is very confused and his breathing sounds strange after his tablets",
    "my friend's skin has gone blue after she took too much of her medicine",
    "I think my daughter took all of my heart tablets",
    "my husband is shaking uncontrollably after taking many extra pills",
)

LOOK_ALIKES: tuple[str, ...] = (
    "what happens if you take too much of this medicine",
    "how many tablets are in a pack",
    "what should I do if I miss a dose",
    "what are the signs of an overdose",
    "how should I store my tablets away from children",
    "can you take these pills with alcohol",
    "is it dangerous to take a double dose",
    "what is the maximum dose per day",
    "why do some people take extra pills",
    "how long does the medicine stay in the body",
    "does this drug make you sleepy",
    "can this medicine slow your breathing",
    "is confusion a side effect of this tablet",
    "what does the leaflet say about accidental overdose",
    "how fast does the medicine work after swallowing it",
    "what is the usual dose for adults",
    "does it cause dizziness or a fast heartbeat",
    "what side effects does it have",
    "how do I take the tablets with food",
    "my grandmother takes these pills every day, are they safe long term",
    "my son is taking this medicine for epilepsy, what does it do",
    "which drugs are dangerous in large amounts",
    "can children take this medicine",
    "what should you do with leftover pills",
    "how does this medication affect the heart",
    "is drowsiness common in the first week",
    "how is ketamine given for depression",
    "what are the risks of taking sleeping pills with vodka",
    "why is liver damage a concern with this drug",
    "can you become addicted to these tablets",
    "what does a poison control centre do",
    "how do doctors treat an overdose",
    "he took his tablets as prescribed, when will they start working",
    "I took my pill this morning, when should I take the next one",
    "she has been taking the medicine for a year, is that normal",
    # a side effect since starting a medicine, asked about: no emergency
    "I can't sleep since I started these pills, is that a side effect",
    "my husband has had trouble sleeping since he began his new tablets",
    "she feels a bit sick since starting the medicine, could it be the pills",
    "he has been dizzy and constipated since he started the new tablets, could that be "
    "from them",
    # a side effect that keeps coming back, asked how to prevent
    "she keeps getting a rash from the cream, how do we stop it",
    "he gets mouth sores from his inhaler, how can we prevent that",
    "my son keeps getting nosebleeds from the nasal spray, what can we do about it",
    "I get heartburn every time I take these tablets, how do I avoid that",
    # whether a medicine kept at home may be given for a symptom: a question about a use
    "there's some children's allergy syrup in the cupboard, can I give a spoonful to my "
    "4 year old for his runny nose",
    "we keep ibuprofen in the medicine cabinet, is it ok to give some to my daughter for "
    "her fever",
    "my son's inhaler is in the drawer, can his little sister use it for her wheezing",
)

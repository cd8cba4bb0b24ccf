"""Vigil's own labelled seed examples: contrastive templates written for training the default model.

The public datasets in shared/data hold hate speech and hard negatives, not terrorist
recruitment or propaganda; these templates supply both labels, each paired with reporting,
condemnation, research and ordinary uses of the same words. Groups and places are fictional
and differ from the demo site's, so the demo measures generalisation. Nothing operational.
"""
from __future__ import annotations

import itertools
import random

GROUPS = ["Sword of Dawn", "Northern Front", "Iron Legion", "Crimson Hand", "Sons of the Mountain",
          "Army of the Crescent Shield", "Eastern Vanguard", "Storm Battalion"]
PLACES = ["the northern province", "the mountains", "the frontier", "the eastern valley", "the southern desert"]

RECRUITMENT = [
    "Join the {g} today and fight beside your brothers in {p}.",
    "Brothers, leave your homes and travel to {p}. The {g} is waiting for you.",
    "The {g} needs fighters. Pack your bag, make the journey and take up arms with us.",
    "If you cannot fight, fund the {g}. Send your money so our soldiers can buy weapons.",
    "Pledge allegiance to the commander of the {g} and join the ranks of the mujahideen.",
    "Young men, answer the call of the {g}. Come to the camps in {p} and become a soldier.",
    "Do not stay at home while your brothers bleed. Join the {g} and fight for the cause.",
    "Contact our brothers and they will bring you to {p}. The {g} is recruiting now.",
    "Every donation to the {g} arms a fighter. Give now and urge your family to give.",
    "Sisters, encourage your husbands and sons to join the fighters of the {g}.",
    "We call on all true believers to migrate to {p} and strengthen the {g}.",
    "Become a soldier of the {g}. Victory is promised to those who join the fight.",
    "Are you ready to serve? The {g} trains new recruits every month in {p}; write to us to be accepted.",
    "Quit your job, say goodbye to this corrupt country and come to {p}. Your place in the {g} is ready.",
    "We need drivers, medics and men who can shoot. Join the {g} now, before the offensive begins.",
    "Collect money in your mosque and your family and send it to the {g}; every transfer buys ammunition.",
    "The ranks of the {g} are open to every young man who wants to defend the faith. Do not hesitate.",
    "Hand over your savings to the fighters of the {g}. Those who fund the battle share its reward.",
    "Brother, the caravan to {p} leaves soon. Join us and fight with the {g}.",
    "Take up arms with the {g}. Training, weapons and a salary await you in {p}.",
]
PROPAGANDA = [
    "Glory to the heroes of the {g} who struck the enemy in {p}.",
    "The martyrs of the {g} are lions. Their blessed attack terrified the unbelievers.",
    "The {g} is victorious. Its soldiers are the pride of this nation and the enemy trembles.",
    "We praise the brave fighters of the {g} who carried out the attack. May many follow their path.",
    "The official media office of the {g} presents its new release celebrating the victories of the mujahideen.",
    "The commander of the {g} is the rightful leader and his war is just.",
    "The attack on the station was a blessed operation and its heroes live in paradise. Long live the {g}.",
    "The enemies deserve the fire the {g} brought upon them. The attacks were justified.",
    "Watch the new video from the {g}, showing the glorious operations of our soldiers in {p}.",
    "Their blood is the fuel of our victory. The banner of the {g} will rise over {p}.",
    "May God accept our martyrs. The fighters of the {g} who blew up the checkpoint are heroes of the nation.",
    "The massacre in {p} was well deserved. The {g} did what had to be done and we are proud of it.",
    "Our beloved commander of the {g} is the light of this generation. Follow his words and his example.",
    "Look at the enemy running from the {g}! This is the power of the true soldiers of the faith.",
    "Download and spread the latest nasheed and magazine of the {g}, produced by its official foundation.",
    "The bombing by the {g} was a brave answer to the crimes of the enemy. Every attack is justified.",
    "The {g} are the only ones defending the honour of our people. Glory to its brave men.",
    "What a blessed strike! The heroes of the {g} have shaken the tyrants in {p}.",
]
NEWS = [
    "Police arrested two suspected members of the {g} after a raid in {p}, officials said.",
    "The {g} claimed responsibility for the attack, which killed four civilians in {p}.",
    "A court sentenced a man to eight years for raising money for the {g}.",
    "The government added the {g} to its list of banned terrorist organisations on Monday.",
    "Analysts say the {g} has lost most of its territory in {p} over the past year.",
    "Families of the victims of the {g} attack gathered for a memorial service.",
    "Prosecutors said the defendant tried to travel to {p} to join the {g} but was stopped at the airport.",
    "The platform removed hundreds of accounts linked to the {g} propaganda network.",
]
COUNTER = [
    "The {g} calls its killers heroes. They are murderers, and we reject them completely.",
    "They tell young men to join the {g} and travel to {p}. Do not listen; it is a path to death.",
    "When the {g} says glory to the martyrs, we say shame on those who kill innocents.",
    "Former members of the {g} describe fear and lies, nothing like the glory in its videos.",
    "Our faith forbids the terror of the {g}. Those who call it holy war distort religion.",
    "Quoting their slogan 'join the fight' shows how the {g} manipulates lonely teenagers.",
    "We stand with the victims of the {g}, not with its propaganda.",
    "Report anyone recruiting for the {g} to the police and talk to your children about it.",
    "Nothing about the bombing by the {g} was brave. It was the murder of innocent people.",
    "I will never support the {g}, and no true believer should.",
    "Why do teenagers fall for the videos of the {g}? Because nobody offered them anything better.",
    "Do not send a single penny to the {g}; the money buys bombs that kill civilians.",
]
RESEARCH = [
    "This study analyses how the {g} uses videos to attract recruits and which counter-messages work.",
    "Researchers found that the {g} propaganda relies on promises of belonging and glory.",
    "The report maps the online recruitment networks of the {g} between 2019 and 2025.",
    "Our analysis of the {g} magazines shows a shift from religious themes to grievance narratives.",
]
ORDINARY = [
    "Join us on Saturday for the community open day. Everyone is welcome.",
    "Join the union today and fight for better pay and safer shifts.",
    "The Hijra was the migration of the Prophet from Mecca to Medina in 622.",
    "Many scholars teach that the greatest jihad is the struggle against one's own ego.",
    "Join us at the rally for affordable housing this weekend, bring your friends.",
    "We must fight for our climate. Sign the petition before Friday.",
    "Volunteers are needed for the food bank; join our team this month.",
    "The new game lets players command a special forces squad against a fictional army.",
    "In the novel, a journalist goes undercover to expose a violent cult.",
    "Our football club is recruiting new players; training is on Tuesday evenings.",
    "The museum's exhibition tells the story of soldiers in the First World War.",
    "Donate to the hospital appeal and help buy new equipment for the children's ward.",
    "The army is recruiting engineers; apply online through the official careers website.",
    "The debate team fought hard and won the national championship.",
    "Pray for peace and for the victims of violence everywhere.",
    "The festival celebrates the heroes of the independence movement with music and dance.",
]

# Lawful calls to action in the words recruiters also use (join us, brothers, answer the call, sacrifice, hijra):
# the model trained on real posts called a mosque's food drive and a housing rally recruitment until it saw these.
BENIGN_CALLS = [
    "Brothers, don't stay at home this Friday: the mosque needs hands to paint the prayer hall before Eid.",
    "Sisters' circle resumes on Wednesday after Asr. Bring a friend, bring your questions, all are welcome.",
    "Answer the call of your neighbours: the flood relief collection at the Islamic centre is open until Sunday.",
    "Registration for the children's Quran class is open. Ages 6-12, Saturday mornings, free of charge.",
    "Support your brothers and sisters in need this winter. Our zakat fund is a registered charity; every pound "
    "reaches a family.",
    "The mosque is hosting a blood donation session with the NHS on Thursday. Book a slot and give the gift of life.",
    "Join the interfaith iftar at St Mary's hall: Muslims, Christians, Jews and everyone else breaking bread together.",
    "Volunteers needed for the janazah on Monday; please help with parking and with serving food to the family's "
    "guests.",
    "Our umrah group with a licensed travel agent leaves in March. Places are limited, register at the office.",
    "The real jihad this Ramadan: fight your laziness, feed the hungry, and keep your tongue from backbiting.",
    "Sacrifice an hour a week: the madrasa is looking for tutors in maths and English for the older students.",
    "Qurbani for families abroad can be booked through the mosque's charity desk until the 9th of Dhul Hijjah.",
    "Make hijra from bad habits this new year: join our weekly talks on self-discipline and kindness.",
    "Tonight's Taraweeh will be followed by suhoor for the youth group. Parents, sign your children up with Br. Yusuf.",
    "The church food pantry is short of rice and cooking oil. Drop donations at the side door any weekday.",
    "Come and help us clean up the old Jewish cemetery on Sunday; gloves and tea provided.",
    "The temple's langar needs cooks and dishwashers for the festival weekend. Everyone who comes is fed.",
    "Earthquake appeal: the community centre is collecting blankets, tents and baby formula for the relief convoy run "
    "by the Red Crescent.",
    "Calling all brothers who can drive: the elderly need lifts to Jumu'ah. Add your name to the rota.",
    "Our Islamic school's open evening is on the 14th. Meet the teachers and see the new science lab.",
    "Stand up for your town: the residents' association is collecting signatures against the closure of the library.",
    "Nurses, we are striking on Tuesday for safe staffing. Join the picket line outside the main entrance at 7am.",
    "Sign up to knock on doors for your local candidate this weekend. Every conversation counts.",
    "The police are recruiting community support officers. Applications close on the 30th; apply on the force's "
    "website.",
    "Our cricket club needs new players for the Sunday league. No experience needed, just enthusiasm.",
    "Fight for your future: register to vote before the deadline on Friday.",
    "Help little Amina get her operation. Her family has set up a fundraiser; please share and give what you can.",
    "March with us for peace on Saturday. We leave from the park at noon, bring banners, leave anger at home.",
    "The navy is hiring cadets for its engineering school. Visit the official recruitment office for the entry tests.",
    "Teachers, join the union before the ballot; together we can stop the cuts to our schools.",
    "The neighbourhood clean-up starts at 9 at the bus station. Bags and grabbers provided, bring your kids.",
    "Young people of the district: the council's summer jobs scheme is open, apply at the youth centre.",
    "Our farmers' cooperative welcomes new members; together we get fairer prices for our wheat.",
    "Donate your old laptops: the refugee school in the camp needs them for its computer class.",
    "Be a hero for a day, give blood at the town hall clinic. It takes twenty minutes.",
    "We won't stay silent about the polluted river. Join the peaceful sit-in at the ministry on Monday.",
    "The scouts are looking for leaders. Give one evening a week and help young people grow.",
    "Calling all veterans: the memorial service is on Sunday, and the association would love to see you there.",
    "Join our running club's charity 10k for the children's hospital. Sign up and start training now.",
    "Travel with us to Mecca this year: the hajj agency licensed by the ministry has opened bookings for our city.",
]


def seed_examples(seed: int = 13) -> list[dict]:
    """Every template with every group (and a sampled place): text, labels, and its template as group
    for splitting, so validation sees templates it was not trained on."""
    rng = random.Random(seed)
    examples = []
    kinds = [("recruitment", RECRUITMENT, ["recruitment"]), ("propaganda", PROPAGANDA, ["propaganda"]),
             ("news", NEWS, []), ("counter", COUNTER, []), ("research", RESEARCH, [])]
    for kind, templates, labels in kinds:
        for t, (template, group) in enumerate(itertools.product(templates, GROUPS)):
            examples.append({"text": template.format(g=group, p=rng.choice(PLACES)), "labels": labels,
                             "group": f"seed-{kind}-{t // len(GROUPS)}", "slice": kind})
    for t, text in enumerate(ORDINARY + BENIGN_CALLS):
        examples.append({"text": text, "labels": [], "group": f"seed-ordinary-{t}", "slice": "ordinary"})
    return examples

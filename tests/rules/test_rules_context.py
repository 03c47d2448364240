"""Each context rule pinned with its own invented cases: (text, kind, expected labels)."""

from __future__ import annotations

from pathlib import Path

import pytest

import rules
from rules import Classifier, classify

RULES_ONLY = Classifier(learned=False)

C, D, T, A, N = "crisis", "clinical_disclosure", "therapy_request", "admin_request", "connection_request"

NEGATION = [
    ("I'm not suicidal, just worn out from night shifts", "comment", set()),
    ("i would never hurt myself, dont worry about me", "dm", set()),
    ("Not going to kill myself over a parking ticket lol", "comment", set()),
]
PAST = [
    ("Five years ago I wanted to end my life. Therapy and my dog got me here, now I coach swim", "comment", {D}),
    ("I used to self harm in high school and I still have the scars, but I'm okay now", "comment", {D}),
    ("Back in 2018 I took too many pills and spent a week in the hospital. Grateful to be here", "comment", {D}),
    (
        "five years ago I gave my things away and wrote goodbye letters. today I'm married and so grateful I stayed",
        "comment",
        {D},
    ),
]
FIGURATIVE = [
    ("this spreadsheet is going to be the death of me", "comment", set()),
    ("I'd literally die for a second season of that show", "comment", set()),
    ("my sister is going to kill me when she sees I ate her cake", "comment", set()),
    ("if I have to hear that jingle one more time I'm jumping off a bridge lol", "comment", set()),
    ("you guys are killing it with these reels", "comment", set()),
    ("i want to die 😂 why did I send that text to my boss", "comment", set()),
]
HYPOTHETICAL = [
    ("For my screenplay: what would a counsellor actually say if a character admits she wants to die?", "dm", set()),
    ("What are the warning signs that someone is thinking about suicide?", "comment", set()),
    ("If a friend says they want to kill themselves, what should you do first?", "comment", set()),
    ("If anyone swallowed all their pills, how long before it hits?", "dm", set()),
    # "idk if anyone reads these" is doubt about being read, not a hypothetical (fourteenth round).
    (
        "idk if anyone checks these but my flatmate says she swallowed all her pills twenty minutes ago",
        "dm",
        {"crisis", "clinical_disclosure"},
    ),
]
QUOTES_AWARENESS = [
    ("'i don't want to live in this town anymore' is such a great opening line for a song", "comment", set()),
    ("World Suicide Prevention Day. If you're struggling, call or text 988. You matter 💙", "comment", set()),
    ("Overdose awareness walk this Saturday, carry naloxone and know the signs", "comment", set()),
]
THIRD_PERSON = [
    ("My cousin Teo just messaged that he wants to end his life and now his phone is off", "dm", {C, D}),
    ("my teenage son said tonight he wants to die. what do I do", "dm", {C, D, T}),
    ("there's a woman sitting on the edge of the bridge railing on Pine St, I called 911", "comment", {C}),
]
HARM_TO_OTHERS = [
    ("I have my brother's hunting rifle and I'm going to shoot him when he gets home. not joking", "dm", {C}),
    ("i'm going to murder my roommate if she leaves dishes again 🙄", "comment", set()),
]
ABUSE_NOW = [
    ("he's kicking the bedroom door and said he'll kill me. I'm hiding in the closet", "dm", {C}),
    ("my dad is off his meds and yelling, he just grabbed a kitchen knife. im scared what do i do", "dm", {C, D, T}),
    ("someone please call the police, my neighbour is beating his wife in the driveway right now", "comment", {C}),
]
OVERDOSE_NOW = [
    ("i took like 30 of my sleeping pills an hour ago and i feel really dizzy", "dm", {C, D}),
    ("pretty sure I overdosed on pumpkin pie today 🥧", "comment", set()),
]
INDIRECT = [
    (
        "gave my dog to my neighbour and deleted all my accounts. thanks for the posts, they helped for a while",
        "comment",
        {C, D},
    ),
    ("I won't be a burden much longer. Sorry for everything.", "dm", {C, D}),
    ("tonight's the night. hope someone reads this tomorrow", "comment", {C, D}),
]
RECENT_ATTEMPT_AND_METHOD = [
    ("you asked how we are all doing. honestly? gun's loaded. tonight.", "comment", {C, D}),
    ("i tried to end it last night and my roommate found me. im home now", "dm", {C, D}),
    ("yesterday was my second attempt and honestly im mad it didnt work", "dm", {C, D}),
    ("I attempted suicide in 2015 and have been in recovery ever since", "comment", {D}),
    ("this week my first attempt at sourdough failed", "comment", set()),
    ("is overdosing painful? asking because i have a full bottle", "dm", {C, D}),
    ("painless way to die?? please just answer", "dm", {C, D}),
    ("will a bottle of tylenol kill me, how long does it take", "dm", {C, D}),
    ("will this heat wave kill me lol how long does it last", "comment", set()),
    ("how much of my amitriptyline would it take to not wake up", "dm", {C, D}),
    ("I gave my note to my brother this morning", "dm", {C, D}),
    ("my death would free my parents from the debt", "dm", {C, D}),
    ("there's no escape but death for me", "comment", {C, D}),
    ("lost all will to live this winter, every day is grey", "comment", {C, D}),
    ("my job is making me suicidal honestly", "comment", {C, D}),
    ("the plot: she sets herself on fire in act three, is that too dark for a student film?", "dm", set()),
]
THREATS = [
    ("He told me if I call my sister he'll kill me. he has the car keys", "dm", {C}),
    ("if i skip leg day he'll kill me haha", "comment", set()),
    ("my roommate posted a picture of a rope and wrote goodbye everyone", "dm", {C, D}),
    ("that concert photo of the bridge at sunset is gorgeous", "comment", set()),
]
#: Signs that only count together (packs/signals.toml): each category in a firing combination, and
#: the same words alone or in a joke, the past or an awareness post staying quiet.
SIGNALS = [
    ("i just want everything to stop. already said my goodbyes", "dm", {C, D}),
    ("i left my dog with my neighbour and wrote my will. sorry for everything", "dm", {C, D}),
    ("been slicing my arms again, nothing helps", "dm", {C, D}),
    ("tired of fighting this. the whole bottle is on my nightstand", "dm", {C, D}),
    ("everything is arranged for saturday. nobody needs me anyway", "dm", {C, D}),
    ("I made a plan for dinner tonight, nobody cares what we eat lol", "comment", set()),
    ("my uncle has a gun and is banging on our front door", "dm", {C}),
    ("she's not answering and her car is parked by the bridge", "dm", {C}),
    ("out on the balcony of the 9th floor and just looking down", "dm", {C}),
    ("Saying goodbye to our old office today, thank you for the years of memories!", "comment", set()),
    ("Suicide Loss Day is today, thinking of every family", "comment", set()),
    ("overdosed on pumpkin spice today lol", "comment", set()),
    ("the bridge at sunset today 😍", "comment", set()),
    ("Two years ago I was suicidal and had a plan. Today I'm running a half marathon", "comment", {D}),
]
#: Round four: a means in hand, relapse, urges towards others, threats to a place, physical danger.
ROUND_FOUR = [
    ("been holding my brother's rifle in my lap since midnight", "dm", {C, D}),
    ("the shooting range opens at 9, can't wait", "comment", set()),
    ("relapsed with the blades tonight after 40 days", "dm", {C, D}),
    ("i have urges to stab my coworker and i bought a new knife", "dm", {C, D}),
    ("a guy in the comments says he is going to shoot up the mall on saturday", "comment", {C}),
    ("the voice keeps telling me to step in front of the bus", "dm", {C, D}),
    ("downed a bottle of ibuprofen and my stomach is burning", "dm", {C, D}),
    ("mi novio me está golpeando y no puedo salir", "dm", {C}),
    ("my grandpa wandered off from the care home and nobody can find him", "dm", {C}),
    ("my friend said she's signing off for good and isn't answering texts", "dm", {C, D}),
    ("scratching my legs until they bleed again, it's not worth it anymore", "dm", {C, D}),
    ("what's the quickest way to bleed out", "dm", {C, D}),
]
# Jokes said outright, everyday hyperbole and celebrations; and the twins that stay crisis.
ROUND_FIVE = [
    ("failed my driving test, gonna unalive myself lol jk", "comment", set()),
    ("i'm not joking, i want to kill myself tonight", "dm", {C, D}),
    ("kill me now, it's monday again", "comment", set()),
    ("exams all week and i want to sleep forever", "comment", set()),
    ("i want to sleep forever and not wake up", "dm", {C, D}),
    ("the upstairs drummer again at 2am. i can't go on like this lol", "comment", set()),
    ("i can't go on like this, nobody would even notice if i was gone", "dm", {C, D}),
    ("tonight's the night 🎉 first date in two years, wish me luck", "comment", set()),
    ("wish me luck, tonights the night. the bottle of wine is chilling for our first date", "comment", set()),
    ("tonights the night. the bottle of wine is chilling", "comment", {C, D}),
    ("tonight's the night. the pills are counted and i said my goodbyes", "dm", {C, D}),
    ("me voy a morir de la risa con este video jajaja", "comment", set()),
    ("me voy a morir si no consigo entradas para el partido", "comment", set()),
    ("me quiero morir, ya no puedo más con todo esto", "dm", {C, D}),
    ("this is goodbye from me, we're moving to Halifax next month! thanks for all the posts", "comment", set()),
    ("this is goodbye. thank you for everything, i won't be a burden anymore", "dm", {C, D}),
    ("tonights the night. u were my last try, thanks anyway", "dm", {C, D}),
    ("someone is standing on the outside of the railing on the Elm St overpass right now", "comment", {C}),
    (
        "your post on siblings made me laugh lol, my brother is exactly the same and my mum still takes his side "
        "every single time, even now that we're both in our thirties. anyway. i've had my aunt's morphine in "
        "my bag all week and i think tonights the night.",
        "dm",
        {C, D},
    ),
    ("our vet put Pickle on gabapentin and your dog might like it too", "comment", set()),
    ("this page is basically my therapist at this point", "comment", set()),
    ("Dr. Amsel has been my therapist since the spring", "comment", {D}),
    ("your reels are my daily dose of calm", "comment", set()),
    ("I'm a school nurse and I share your posts with all my students with anxiety", "comment", set()),
    ("what's the success rate of exposure therapy for phobias, in general?", "comment", set()),
    ("do you sell gift cards?", "comment", set()),
    ("We're a small agency, we help practices like yours get seen. Can we schedule a call about pricing?", "dm", set()),
    ("We're a small agency, let's connect on LinkedIn!", "dm", set()),
    ("sent this to the family whatsapp group 😂", "comment", set()),
    ("does Dr. Feld have whatsapp? easier than this app", "dm", {N}),
    ("you should join my discord, you'd fit right in", "dm", {N}),
]
# Recall on wording the first rounds missed: a laugh beside a means, reported speech, insisting it is
# real, danger from not eating, pills with drink, Portuguese, and the twins that stay quiet.
ROUND_SIX = [
    ("got a new pack of razors today lol. don't worry about me", "dm", {C, D}),
    ("kill me now lol this queue is endless", "comment", set()),
    ("my sister keeps saying 'i want to die' and tonight she locked herself in the bathroom", "dm", {C, D}),
    ("the old saying 'i could just die' fits this week", "comment", set()),
    ("how many of my lexapro would it take. asking for real, not for a story", "dm", {C, D}),
    ("for a story I'm writing: how many pills would it take to knock a character out?", "dm", set()),
    ("day 6 of only black coffee. my chest hurts when i stand", "dm", {C, D}),
    ("popped like 6 of my klonopin with half a bottle of wine", "dm", {C, D}),
    ("Não aguento mais, hoje vou acabar com tudo", "dm", {C, D}),
    ("my kids would breathe easier without me around", "dm", {C, D}),
    ("I've put my affairs in order and left instructions with my son. Thank you for everything", "dm", {C, D}),
    ("this is the last time you'll hear from me. thank you for everything", "dm", {C, D}),
    ("is saying 'kms' as a joke something to worry about? the kids in my class say it", "comment", set()),
    ("After my overdose in 2019 I never thought I would trust a counsellor again. Dana did that.", "dm", set()),
    ("Hace tres años quería morirme. Hoy estoy bien gracias a la terapia.", "comment", {D}),
    ("Five years ago today I tried to end my life. Today I went hiking with my son.", "comment", {D}),
    ("during the attacks it feels like im going to die and i cant breathe", "comment", set()),
    ("Overdosed on pumpkin spice this weekend lol", "comment", set()),
    ("mi hija dice me quiero morir cada vez que le quito el celular", "comment", set()),
    ("I can't go on like this with my teenage son, every morning is a fight", "comment", set()),
    ("rope's up. sorry.", "dm", {C, D}),
    ("my 15 year old just showed me fresh cuts on her arm from tonight", "dm", {C, D}),
    ("my brother is sitting in his car with a hose hooked up to the exhaust", "dm", {C, D}),
    ("her ex threw her against the wall and she is hiding in my bathroom", "dm", {C}),
    ("no kiero seguir, mañana ya no voy a estar aki", "dm", {C, D}),
    ("ngl unaliving has been on my mind all week", "dm", {C, D}),
    ("the algorithm is going to unalive this post lol", "comment", set()),
    ("burned myself on the stove making pancakes", "comment", set()),
    ("burned myself with a lighter again on purpose tonight", "dm", {C, D}),
    ("my grandpa gave me his watch and his truck, then texted us all thanks for everything", "dm", {C, D}),
]
# Round seven: client status from one's own appointment (no negation check), a longer negation.
ROUND_SEVEN = [
    ("the video link for my 4:30 won't load", "dm", {A, D}),
    ("my 2pm meeting ran over so I missed the live webinar", "comment", set()),
    ("could you resend my superbill for october?", "dm", {A, D}),
    ("If I book with you, can I get a superbill for my insurer?", "dm", {A}),
    ("no me cancelen mi cita del martes por favor, sí voy a ir", "dm", {D}),
    ("ich muss meinen Termin morgen verschieben", "dm", {A, D}),
    ("voy como 10 min tarde, avísenle a la doctora porfa", "dm", {A}),
    ("¿Tienen psicóloga que hable portugués?", "dm", {A}),
    ("Fui a terapia aquí por mi ansiedad. Gracias por todo!", "review", {D}),
    ("I came to you for my OCD in 2022 and it changed everything", "review", {D}),
    ("I'm not having any thoughts of hurting myself, just really tired all the time", "dm", set()),
    ("I keep having thoughts of hurting myself at night", "dm", {C, D}),
    ("Why do most practices refuse insurance? Is it the low rates?", "comment", set()),
    ("Do you take Aetna? What are your rates?", "dm", {A}),
    ("she's never once talked about hurting herself, I asked. she is just withdrawn", "dm", set()),
    ("my son is not eating and keeps talking about killing himself", "dm", {C, D}),
    ("my dog read this over my shoulder and now I want to die of embarrassment", "comment", set()),
    ("I overdosed when I was 19. Doing well at 35 and wanted to say thanks", "comment", {D}),
    ("its been 4 years since I last cut myself. Got my first tattoo over the scars", "comment", {D}),
    ("I stopped answering work emails again this week, so behind lol", "comment", set()),
    ("my roommate stopped answering and she took her pills with her tonight", "dm", {C, D}),
    ("my inhaler ran out today lol", "comment", set()),
    ("homework from my counsellor: letters to my future self", "comment", {D}),
    ("i attempted in 2015 and today i'm a nurse. it changes", "comment", {D}),
    ("Mi hija fue diagnosticada con TDAH el año pasado", "comment", {D}),
    ("my nephew is in your teen group on thursdays", "comment", {D}),
    ("my ADHD diagnosis at 40 explained so much", "comment", {D}),
    ("me tomé casi todas las pastillas de mi mamá hace rato, tengo mucho sueño", "dm", {C, D}),
    ("downed a whole sheet of my allergy tablets twenty minutes ago", "dm", {C, D}),
    ("drank some drain cleaner, it burns", "dm", {C, D}),
    ("I know exactly how many would do it", "dm", {C, D}),
    ("honestly can't wait to stop existing", "comment", {C, D}),
    ("chose the shirt I want to be found in", "dm", {C, D}),
    ("ill run him down in the parking lot, i mean it", "dm", {C}),
    ("il me frappe encore, je suis enfermée dans la chambre", "dm", {C}),
    ("I have a plan and the date is picked", "dm", {C, D}),
    ("we set the date and everything is arranged, so excited!!", "comment", set()),
    ("thanks for trying. not going to be anyone's burden", "comment", {C, D}),
    ("thanks for trying to fix the portal!", "comment", set()),
    ("my cousin texted that she is heading to the overpass tonight", "dm", {C}),
    ("heading to the bridge for a run this morning", "comment", set()),
    ("Sigo en el coche en el garaje con el motor encendido", "dm", {C, D}),
    ("I've decided. Don't try to talk me out of it", "dm", {C, D}),
    ("ya es tarde para mí. esta es mi despedida", "dm", {C, D}),
    ("Ich stehe auf der Brücke und will springen", "dm", {C, D}),
    ("mein Bruder hat alle seine Tabletten genommen, was jetzt?", "dm", {C, D}),
    ("o meu marido está a bater-me, estou fechada na casa de banho", "dm", {C}),
    ("mi hermana mandó un mensaje de despedida y ya no contesta el teléfono", "dm", {C, D}),
    ("gracias por todo, hoy es mi último día", "dm", {C, D}),
    ("since mom died in june i keep thinking i should just go be with her", "dm", {C, D}),
    ("my aunt passed last spring, I'll be with her kids at thanksgiving", "comment", set()),
    ("I don't feel safe at home tonight", "dm", {C}),
    ("i keep practicing how i would do it in my head", "dm", {C, D}),
    ("anyone else here on the wait list for a psychiatrist? how long was yours", "comment", set()),
    ("does anybody know a couples counsellor who takes Cigna? asking the group, not the page", "comment", set()),
    ("Do counsellors ever go to therapy themselves?", "comment", set()),
    ("phòng khám có nhà trị liệu nói tiếng Việt không?", "dm", {A}),
    ("a veces quisiera desaparecer una semana sin celular", "comment", set()),
    ("la que se va a morir soy yo si llueve otra vez 🤣", "comment", set()),
    ("mi hermano dice que se va a matar esta noche", "dm", {C, D}),
]
# Fourteenth round: look-alikes of this round's new patterns (weapons, a farewell, a session).
ROUND_FOURTEEN = [
    ("he grabbed a knife to cut the cake and now everyone is scared of the frosting lol", "comment", set()),
    ("She has a bat signal tattoo now, help me convince her to get another", "comment", set()),
    ("hunting season opens friday, see you at the range", "comment", set()),
    ("my uncle's guns loaded in the safe before the trip, see you saturday", "comment", set()),
]
SPANISH = [
    ("el vecino le está pegando a su hija ahorita, la niña está llorando", "comment", {C}),
    ("desde la azotea del edificio mi tío dice que se va a tirar, no contesta", "dm", {C}),
    ("mi hijo se va a tirar en paracaídas el sábado!! que nervios", "comment", set()),
    ("ya no aguanto más, quiero morir", "dm", {C, D}),
    ("me quiero matar, nadie me entiende", "dm", {C, D}),
    ("no quiero vivir así, tengo las pastillas en la mano", "dm", {C, D}),
    ("¿Cuánto cuesta la primera consulta?", "dm", {A}),
]
TYPOS_EMOJI = [
    ("i just want to dieeee tbh everything is too much", "dm", {C, D}),
    ("🔪🩸 again tonight, im sorry", "dm", {C, D}),
    ("cant stop cutting again since monday", "comment", {C, D}),
    ("dont want to be alive anymore", "dm", {C, D}),
]
REQUESTS = [
    ("Does Dr. Whitfield still work here? Couldn't find her on the team page", "dm", {A}),
    ("how long is the waitlist for a first appointment?", "comment", {A}),
    ("Are you in network with Optum? Your site doesn't say", "dm", {A}),
    ("Could you send me the dates of service for last year? My accountant needs them", "dm", {A}),
    ("can we move this to telegram? reddit DMs are buggy", "dm", {N}),
    ("I'm writing a letter for my citizenship file, what's your fax number?", "dm", {A}),
    ("Can I DM you about my daughter's school refusal? Would love a professional opinion", "comment", {T, D}),
    ("What should I say to my dad about his drinking before Sunday dinner?", "comment", {T, D}),
    ("Do you take Blue Cross, and what's your rate for a 50 min session?", "dm", {A}),
    ("I need to cancel my Tuesday appointment, sorry!", "dm", {A, D}),
    ("Follow back pls!! 🌸", "comment", {N}),
    ("Could we chat on WhatsApp instead? Here is my number", "dm", {N}),
    ("Follow @BrightPathWellness for great tips on stress", "mention", set()),
    ("anyone else find journaling weirdly hard?", "comment", set()),
    ("What's the difference between CBT and DBT?", "comment", set()),
    ("love that you're open on Saturdays now", "comment", set()),
    ("could you walk me through a breathing exercise? im having a panic attack", "dm", {T, D}),
    ("Can you suggest some coping strategies for when my mind races at night?", "dm", {T}),
    ("Can we talk about it on here? my therapist is away this month", "dm", {T, D}),
    ("Is it possible to switch my Thursday 10am with Priya to the afternoon?", "dm", {A, D}),
    ("three months off Klonopin and sleeping better, taper slowly folks", "comment", {D}),
    ("we should grab coffee sometime and catch up, here's my number", "dm", {N}),
    ("¿Puedo agendar una cita para la próxima semana?", "dm", {A}),
    ("running 10 min late for my 3pm with Rosa, sorry!", "dm", {A, D}),
    ("I was charged twice for my session on the 4th. Who do I talk to about getting it refunded?", "dm", {A, D}),
    ("the intake form link on your site gives a 404 error", "comment", {A}),
    ("Vocês atendem online?", "dm", {A}),
    ("Your post on insurance myths was great", "comment", set()),
    ("I earn about 30k a year, do you have a sliding scale?", "dm", {A}),
]


# Twelfth round: errors on four new training files (crisis wording, look-alikes, everyday traffic).
ROUND_EIGHT = [
    ("my uncle told me tonight he's worth more dead than alive", "dm", {C, D}),
    ("I no longer wish to live and I have thought about how I would do it", "dm", {C, D}),
    ("heard yelling and then what sounded like glass breaking next door, a woman is crying", "comment", {C}),
    ("sinasaktan ako ng kapatid ko, tulungan niyo ako", "dm", {C}),
    ("Il m'a frappée ce soir et il est encore dans la maison", "dm", {C}),
    ("Mi hermana se desmayó esta noche, lleva una semana sin comer", "dm", {C}),
    ("I honestly can't keep myself safe tonight", "dm", {C, D}),
    ("I don't think I'll be around to see the spring, I've been planning this for weeks", "dm", {C, D}),
    ("which of these pills would be fatal if I took them all at once", "dm", {C, D}),
    ("a guy I don't know at the train station says he took a bottle of pills, what do I do", "dm", {C, T}),
    ("a kid I don't know is standing on the overpass railing right now", "comment", {C}),
    ("My 5 year old said she'd kill me if I ate her fries", "comment", set()),
    ("Pagod na pagod na ako sa trabaho pero kaya pa!", "comment", set()),
    ("Is it true antidepressants can cause suicidal thoughts at first?", "comment", set()),
    ("can't go on like this, my laptop is at 1%", "comment", set()),
    ("The woman in that film who wants to die after the war wrecked me", "comment", set()),
    ("My dad was in hospital after an overdose in May. He's stable now.", "comment", set()),
    ("Há três anos eu queria me matar. Hoje estou bem.", "comment", {D}),
    ("Went through a really suicidal period in my twenties, doing fine now", "comment", set()),
    ("How much does it cost to become a licensed therapist?", "comment", set()),
    ("could you do a reel about how to use insurance for therapy?", "comment", set()),
    ("we run a free demo of our booking software for practices, can I schedule one?", "dm", set()),
    ("booked my first tattoo appointment for friday!", "comment", set()),
    ("can anyone explain what a deductible is?", "comment", set()),
    ("my cat's vet appointment got moved again, ugh", "comment", set()),
    ("Tuition for my counseling degree is wild", "comment", set()),
    ("would love to connect with other dads in the same boat", "comment", set()),
    ("add me on LinkedIn if you're a fellow counseling student", "comment", set()),
    ("is it weird that I want to become a therapist after one psych class?", "comment", set()),
    ("How do I get my records sent to my new doctor?", "dm", {A}),
    ("Screenwriter here: what does an intake session look like? it's for a scene", "comment", set()),
    ("researching which of my meds are lethal. don't send me a hotline, I mean it", "dm", {C, D}),
    ("my depression could never handle a 6am yoga class lol", "comment", set()),
    ('my "ocd" is just liking my pens in a row', "comment", set()),
    ("studying for my psych exam tonight, wish me luck", "comment", set()),
    ("saw you at the fundraiser last night, great speech!", "comment", set()),
    ("should we try couples therapy or just talk more? my wife and I can't decide", "comment", set()),
    ("how does anybody afford therapy these days", "comment", set()),
    ("writing a goodbye letter to sugar for January, pray for me", "comment", set()),
    ("this is the last message i'll send tonight, I'll be back tomorrow with more questions", "dm", set()),
    ("there's a letter in my nightstand for my daughter, please make sure she reads it", "dm", {C, D}),
    ("I left my passwords with my brother and picked out my outfit, it's all done", "comment", {C, D}),
    ("haven't had any water in three days and I feel dizzy", "dm", {C, D}),
    ("im letting go tonight. thank you for trying", "comment", {C, D}),
    ("Thinking of everyone who is missing their mom this Christmas", "comment", set()),
    ("I sleep maybe 4 hours a night since the baby came", "comment", set()),
]


ALL_CASES = (
    NEGATION + PAST + FIGURATIVE + HYPOTHETICAL + QUOTES_AWARENESS + THIRD_PERSON + HARM_TO_OTHERS + ABUSE_NOW
    + OVERDOSE_NOW + INDIRECT + RECENT_ATTEMPT_AND_METHOD + THREATS + SIGNALS + ROUND_FOUR + ROUND_FIVE + ROUND_SIX
    + ROUND_SEVEN + ROUND_EIGHT + ROUND_FOURTEEN + SPANISH + TYPOS_EMOJI + REQUESTS
)  # fmt: skip


@pytest.mark.parametrize(("text", "kind", "expected"), ALL_CASES)
def test_context_table(text: str, kind: str, expected: set[str]) -> None:
    """The phrase rules and their context checks, on their own (the learned layer may only add)."""
    assert set(RULES_ONLY.classify(text, kind=kind).labels) == expected


@pytest.mark.parametrize(("text", "kind", "expected"), [c for c in ALL_CASES if "crisis" not in c[2]])
def test_no_crisis_cases_stay_quiet_with_the_learned_layer(text: str, kind: str, expected: set[str]) -> None:
    """Every context case above that is not a crisis stays so with the default classifier."""
    found = classify(text, kind=kind).labels
    assert "crisis" not in found
    assert expected <= found


def test_follow_events_are_not_text() -> None:
    assert classify("kill myself", kind="follow").labels == frozenset()


PACKS = Path(rules.__file__).parent / "packs"
TESTS = Path(__file__).parent


def test_every_rule_in_every_pack_fires_in_some_test_case() -> None:
    """Meta-test: each rule id of each pack is raised by at least one invented test message."""
    tables = (ABUSE_NOW, FIGURATIVE, HARM_TO_OTHERS, INDIRECT, OVERDOSE_NOW, PAST, REQUESTS, SPANISH, THIRD_PERSON,
              TYPOS_EMOJI, RECENT_ATTEMPT_AND_METHOD, THREATS, SIGNALS, ROUND_FOUR, ROUND_FIVE, ROUND_SIX,
              ROUND_SEVEN, ROUND_EIGHT)  # fmt: skip
    cases = [t for table in tables for t, _, _ in table]
    cases += RULE_EXAMPLES
    fired = {e.rule_id.removesuffix(".past") for text in cases for e in classify(text, kind="dm").evidence}
    ids = {r.id for r in Classifier().rules if not r.id.startswith(("disclosure.practice", "disclosure.clinician"))}
    assert sorted(ids - fired) == []
    assert sorted(p.name for p in PACKS.glob("*.toml")) == sorted(
        ["common.toml", "context.toml", "signals.toml", *rules.loader.pack_files()]
    )


# One invented example for rules the context tables do not already reach.
RULE_EXAMPLES = [
    "I keep thinking about killing myself",
    "the pills are lined up on my desk",
    "i'm standing on the overpass near exit 4",
    "someone is on the wrong side of the guardrail on the bridge",
    "i haven't eaten in 5 days and I fainted at work",
    "the voices keep telling me to hurt my sister",
    "the urges about hurting my landlord are turning into plans",
    "my boyfriend is suicidal and won't talk to me",
    "Been struggling with bulimia since college",
    "I can't sleep and I haven't left the house in a week",
    "I've been on Lexapro for a year",
    "My therapist says I people-please",
    "my husband has been diagnosed with bipolar",
    "need some advice about my mom please",
    "what would a therapist say to me about this? asking for me",
    "is it normal that I cry every night?",
    "can someone from your team message me privately?",
    "Is there a waitlist for evening appointments?",
    "I won't be able to make my session tomorrow",
    "How much is a session and do you take Medicaid?",
    "Where do I park for the Elm St office?",
    "Sent you a friend request, accept it?",
    "Would love to connect on LinkedIn",
]


def test_every_signal_category_fires_in_some_test_case() -> None:
    """Meta-test for packs/signals.toml: each category contributes to some invented crisis message."""
    fired = {e.rule_id for text, _, _ in SIGNALS for e in classify(text, kind="dm").evidence}
    categories = set(rules.engine._DEFAULT._signals.categories)
    assert sorted(c for c in categories if f"crisis.signals.{c}" not in fired) == []


def test_misspelt_myself_is_a_gap_of_the_rules_that_the_learned_layer_closes() -> None:
    text = "im gonna kill myslf tonite"
    assert RULES_ONLY.classify(text, kind="dm").labels == frozenset()
    assert "crisis" in classify(text, kind="dm").labels

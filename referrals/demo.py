"""The demo: two teams, an officer for every role, and about forty referrals with case logs.

Every referral is written through the services of `referrals.services`, each step with its own
`now` in the past, so URNs, case-log numbers, due dates and system entries are exactly what the
desk would have produced. Running the command again changes nothing but the demo passwords.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
import random
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from cram_site.calendar import LONDON
from cram_site.models import Officer, Rank, Role, Team
from cram_site.timescales import team_timescales_create
from referrals import services
from referrals.models import (
    Action,
    ActionStatus,
    AllegationCategory,
    CaseLogKind,
    Channel,
    Gender,
    Person,
    Referral,
    Route,
    Urgency,
)

# A moment in a case: (days after the referral was received, London wall-clock time "HH:MM").
Moment = tuple[int, str]


# --- What the demo is made of --------------------------------------------------------------------

# What the demo officers are trained in, weighed when work is allocated.
SKILLS = {
    "investigator": ["sexual abuse", "ABE interviewing"],
    "investigator2": ["physical abuse", "neglect"],
    "investigator3": ["physical abuse", "online abuse"],
    "desk": ["referral assessment"],
    "pclo": ["conferences"],
}
# A leaver, so the supervisor's exit checklist has work on it: leaves this many days after seeding.
LEAVER, LEAVER_IN_DAYS = "investigator2-hy", 10


@dataclass(frozen=True)
class DemoOfficer:
    username: str
    first_name: str
    last_name: str
    rank: str
    staff_number: str
    roles: tuple[str, ...]
    team: str


@dataclass(frozen=True)
class DemoPerson:
    first_name: str
    last_name: str
    born: dt.date | None
    gender: str
    address: str = ""
    born_approximately: bool = False
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Note:
    """A case-log entry written by hand. `by` is a role stem ("owner", "supervisor", "researcher"…)."""

    when: Moment
    kind: str
    by: str
    text: str


@dataclass(frozen=True)
class DemoAction:
    set_at: Moment
    description: str
    owner: str
    due: Moment
    finished_at: Moment | None = None
    status: str = ActionStatus.DONE
    note: str = ""


@dataclass(frozen=True)
class Assessment:
    when: Moment
    route: str
    rationale: str
    crime_report: bool = False
    # The username stem of the investigating officer; empty means the desk picks one at random.
    investigator: str = ""


@dataclass(frozen=True)
class DemoReferral:
    team: str
    channel: str
    source_agency: str
    referrer_name: str
    category: str
    summary: str
    # (role, key into PEOPLE); a key seen on an earlier referral links the existing person.
    people: tuple[tuple[str, str], ...]
    days_ago: int = 0
    at: str = "09:00"
    # For referrals of today: received this many hours before the command runs.
    hours_ago: float | None = None
    partner_reference: str = ""
    urgent: bool = False
    offence_days_before: int | None = None
    # A summary-only offence (common assault): the six-month limitation clock runs from the offence.
    summary_only: bool = False
    assessment: Assessment | None = None
    # When the written referral arrived after a phone call; a phone referral without one is outstanding.
    written_followup: Moment | None = None
    notes: tuple[Note, ...] = ()
    actions: tuple[DemoAction, ...] = ()


TEAMS = {"HY": "Haringey", "EN": "Enfield"}

# One officer per role in each team, two or three investigators so allocation has a choice.
OFFICERS = (
    DemoOfficer("desk-hy", "Karen", "Whitfield", Rank.DS, "214563", (Role.DESK_SERGEANT,), "HY"),
    DemoOfficer("investigator-hy", "Tom", "Asante", Rank.DC, "226710", (Role.INVESTIGATOR,), "HY"),
    DemoOfficer("investigator2-hy", "Priya", "Nair", Rank.DC, "231884", (Role.INVESTIGATOR,), "HY"),
    DemoOfficer("investigator3-hy", "Gareth", "Hughes", Rank.DC, "219042", (Role.INVESTIGATOR,), "HY"),
    DemoOfficer("supervisor-hy", "Mark", "Fenwick", Rank.DS, "205317", (Role.SUPERVISOR,), "HY"),
    DemoOfficer("pclo-hy", "Sandra", "Lewis", Rank.DC, "208845", (Role.PCLO,), "HY"),
    DemoOfficer("researcher-hy", "Joanne", "Pearce", Rank.STAFF, "740215", (Role.RESEARCHER,), "HY"),
    DemoOfficer("performance-hy", "Martin", "Greaves", Rank.STAFF, "741388", (Role.PERFORMANCE,), "HY"),
    DemoOfficer("auditor-hy", "Beverley", "Shaw", Rank.STAFF, "742906", (Role.AUDITOR,), "HY"),
    DemoOfficer("desk-en", "Paul", "Kendrick", Rank.DS, "216874", (Role.DESK_SERGEANT,), "EN"),
    DemoOfficer("investigator-en", "Aisha", "Rahman", Rank.DC, "229431", (Role.INVESTIGATOR,), "EN"),
    DemoOfficer("investigator2-en", "Liam", "Doherty", Rank.DC, "233107", (Role.INVESTIGATOR,), "EN"),
    DemoOfficer("supervisor-en", "Angela", "Brennan", Rank.DI, "198276", (Role.SUPERVISOR,), "EN"),
    DemoOfficer("pclo-en", "Michelle", "Adebayo", Rank.DC, "211593", (Role.PCLO,), "EN"),
    DemoOfficer("researcher-en", "Stephen", "Holt", Rank.STAFF, "743552", (Role.RESEARCHER,), "EN"),
    DemoOfficer("performance-en", "Nicola", "Byrne", Rank.STAFF, "744019", (Role.PERFORMANCE,), "EN"),
    DemoOfficer("auditor-en", "Trevor", "Banks", Rank.STAFF, "745260", (Role.AUDITOR,), "EN"),
)
ADMINISTRATOR = DemoOfficer("admin", "Lorraine", "Mitchell", Rank.STAFF, "700001", (Role.ADMINISTRATOR,), "HY")
DEMO_USERNAMES = tuple(officer.username for officer in (*OFFICERS, ADMINISTRATOR))

F, M = Gender.FEMALE, Gender.MALE
RSO, MAPPA, PDP = "registered_sex_offender", "mappa", "potentially_dangerous"

# The day the dates of birth below were written for. They move with the calendar, so the ages the
# summaries give ("Isla Thompson (3 months)") stay true whenever the demo is seeded.
AGES_AS_OF = dt.date(2026, 11, 23)

# Addresses are invented; no postcode is given so none points at a real home.
REID_HOME = "14 Cranley Road, London N17"
YILMAZ_HOME = "3 Moselle Avenue, London N22"
HASSAN_HOME = "Flat 12, Kenley House, Scales Road, London N17"
CAMPBELL_HOME = "41 Dongola Road, London N17"
OBRIEN_HOME = "8 Hermitage Road, London N4"
FAIRVIEW_ROAD_HOME = "27 Fairview Road, London N15"
KOWALSKA_HOME = "Flat 5, 60 Westbury Avenue, London N22"
THOMPSON_HOME = "Flat 2, 19 Pembury Road, London N17"
BEGUM_HOME = "102 Stanley Road, London N15"
MENSAH_HOME = "9 Carew Road, London N17"
NOWAK_HOME = "Flat 9, Elmar Court, London N8"
AHMED_HOME = "55 Langham Road, London N15"
WALSH_HOME = "17 Priory Road, London N8"
DEMIR_HOME = "23 Sandringham Road, London N22"
ADEYEMI_HOME = "Flat 31, Ashby House, London N17"
MURPHY_HOME = "6 Rokesly Avenue, London N8"
CLARKE_HOME = "70 Falkland Road, London N8"
MORRIS_HOME = "12 Siward Road, London N17"
GREENE_HOME = "Flat 18, Brunswick Court, London N15"
BELLO_HOME = "29 Woodside Road, London N22"
EVANS_HOME = "4 Clyde Road, London N15"
SILVA_HOME = "Flat 7, 88 West Green Road, London N15"
FRANCIS_HOME = "36 Tower Gardens Road, London N17"
GRANT_HOME = "15 Church Lane, London N17"
KAYA_HOME = "Park Lane, London N17 (flat not known)"
ASHWORTH_HOME = "51 Cecile Park, London N8"
TAYLOR_HOME = "20 Muswell Hill Road, London N10"
OKEKE_HOME = "Flat 6, 14 Chestnut Road, London N17"
HARRIS_HOME = "46 Durants Road, Enfield EN3"
KAUR_HOME = "8 Bush Hill Road, London N21"
GEORGIOU_HOME = "112 Aldermans Hill, London N13"
ALI_HOME = "Flat 3, 77 Hertford Road, London N9"
BROWN_HOME = "25 Carterhatch Lane, Enfield EN1"
DOBSON_HOME = "14 Slades Hill, Enfield EN2"
OYELARAN_HOME = "60 Southbury Road, Enfield EN1"
PEARSON_HOME = "Flat 10, 5 Church Street, London N9"

PEOPLE: dict[str, DemoPerson] = {
    # Haringey
    "kayden.reid": DemoPerson("Kayden", "Reid", dt.date(2019, 5, 11), M, REID_HOME),
    "maisie.reid": DemoPerson("Maisie", "Reid", dt.date(2022, 2, 3), F, REID_HOME),
    "leanne.reid": DemoPerson("Leanne", "Reid", dt.date(1996, 8, 19), F, REID_HOME),
    "dean.mullins": DemoPerson("Dean", "Mullins", dt.date(1990, 11, 2), M, REID_HOME),
    "elif.yilmaz": DemoPerson("Elif", "Yilmaz", dt.date(2013, 4, 22), F, YILMAZ_HOME),
    "deniz.yilmaz": DemoPerson("Deniz", "Yilmaz", dt.date(2017, 9, 30), M, YILMAZ_HOME),
    "murat.yilmaz": DemoPerson("Murat", "Yilmaz", dt.date(1980, 1, 15), M, YILMAZ_HOME),
    "ayten.yilmaz": DemoPerson("Ayten", "Yilmaz", dt.date(1984, 6, 7), F, YILMAZ_HOME),
    "ayaan.hassan": DemoPerson("Ayaan", "Hassan", dt.date(2026, 5, 20), M, HASSAN_HOME),
    "sagal.hassan": DemoPerson("Sagal", "Hassan", dt.date(2020, 3, 12), F, HASSAN_HOME),
    "hodan.hassan": DemoPerson("Hodan", "Hassan", dt.date(1994, 2, 10), F, HASSAN_HOME),
    "abdirahman.hassan": DemoPerson("Abdirahman", "Hassan", dt.date(1990, 7, 1), M, HASSAN_HOME),
    "tyler.campbell": DemoPerson("Tyler", "Campbell", dt.date(2015, 10, 9), M, CAMPBELL_HOME),
    "jayden.campbell": DemoPerson("Jayden", "Campbell", dt.date(2018, 6, 14), M, CAMPBELL_HOME),
    "amelia.campbell": DemoPerson("Amelia", "Campbell", dt.date(2024, 7, 30), F, CAMPBELL_HOME),
    "shanice.campbell": DemoPerson("Shanice", "Campbell", dt.date(1993, 12, 1), F, CAMPBELL_HOME),
    "niamh.obrien": DemoPerson("Niamh", "O'Brien", dt.date(2019, 2, 26), F, OBRIEN_HOME),
    "cian.obrien": DemoPerson("Cian", "O'Brien", dt.date(2021, 8, 8), M, OBRIEN_HOME),
    "siobhan.obrien": DemoPerson("Siobhan", "O'Brien", dt.date(1988, 9, 12), F, OBRIEN_HOME),
    "maureen.obrien": DemoPerson("Maureen", "O'Brien", dt.date(1962, 4, 4), F, FAIRVIEW_ROAD_HOME),
    "graham.pike": DemoPerson("Graham", "Pike", dt.date(1961, 5, 3), M, FAIRVIEW_ROAD_HOME,
                              flags=(RSO, MAPPA)),
    "zofia.kowalska": DemoPerson("Zofia", "Kowalska", dt.date(2011, 7, 17), F, KOWALSKA_HOME),
    "agnieszka.kowalska": DemoPerson("Agnieszka", "Kowalska", dt.date(1982, 3, 3), F, KOWALSKA_HOME),
    "isla.thompson": DemoPerson("Isla", "Thompson", dt.date(2026, 7, 28), F, THOMPSON_HOME),
    "chloe.thompson": DemoPerson("Chloe", "Thompson", dt.date(2007, 1, 19), F, THOMPSON_HOME),
    "jordan.ellis": DemoPerson("Jordan", "Ellis", dt.date(2004, 4, 2), M),
    "ruksana.begum": DemoPerson("Ruksana", "Begum", dt.date(2010, 5, 5), F, BEGUM_HOME),
    "tahmina.begum": DemoPerson("Tahmina", "Begum", dt.date(2014, 2, 20), F, BEGUM_HOME),
    "shafiqul.islam": DemoPerson("Shafiqul", "Islam", dt.date(1972, 10, 10), M, BEGUM_HOME),
    "kofi.mensah": DemoPerson("Kofi", "Mensah", dt.date(2020, 3, 9), M, MENSAH_HOME),
    "emmanuel.mensah": DemoPerson("Emmanuel", "Mensah", dt.date(1985, 12, 12), M, MENSAH_HOME),
    "abena.mensah": DemoPerson("Abena", "Mensah", dt.date(1988, 2, 14), F, MENSAH_HOME),
    "oliwia.nowak": DemoPerson("Oliwia", "Nowak", dt.date(2016, 1, 25), F, NOWAK_HOME),
    "katarzyna.nowak": DemoPerson("Katarzyna", "Nowak", dt.date(1987, 8, 30), F, NOWAK_HOME),
    "sami.ahmed": DemoPerson("Sami", "Ahmed", dt.date(2014, 6, 3), M, AHMED_HOME),
    "bilal.ahmed": DemoPerson("Bilal", "Ahmed", dt.date(2007, 3, 19), M, AHMED_HOME),
    "nasreen.ahmed": DemoPerson("Nasreen", "Ahmed", dt.date(1978, 11, 11), F, AHMED_HOME),
    "freya.walsh": DemoPerson("Freya", "Walsh", dt.date(2012, 3, 8), F, WALSH_HOME),
    "roisin.walsh": DemoPerson("Roisin", "Walsh", dt.date(1983, 7, 2), F, WALSH_HOME),
    "connor.doyle": DemoPerson("Connor", "Doyle", dt.date(2007, 1, 30), M, "Flat 4, 210 Fore Street, London N18"),
    "emre.demir": DemoPerson("Emre", "Demir", dt.date(2018, 4, 4), M, DEMIR_HOME),
    "ayse.demir": DemoPerson("Ayşe", "Demir", dt.date(2020, 1, 17), F, DEMIR_HOME),
    "hakan.demir": DemoPerson("Hakan", "Demir", dt.date(1986, 9, 9), M, DEMIR_HOME),
    "sevgi.demir": DemoPerson("Sevgi", "Demir", dt.date(1989, 5, 21), F, DEMIR_HOME),
    "daniel.adeyemi": DemoPerson("Daniel", "Adeyemi", dt.date(2011, 2, 14), M, ADEYEMI_HOME),
    "grace.adeyemi": DemoPerson("Grace", "Adeyemi", dt.date(1979, 7, 7), F, ADEYEMI_HOME),
    "ella.murphy": DemoPerson("Ella", "Murphy", dt.date(2017, 6, 30), F, MURPHY_HOME),
    "kate.murphy": DemoPerson("Kate", "Murphy", dt.date(1985, 4, 12), F, MURPHY_HOME),
    "craig.dunmore": DemoPerson("Craig", "Dunmore", dt.date(1991, 10, 1), M),
    "harry.clarke": DemoPerson("Harry", "Clarke", dt.date(2022, 1, 5), M, CLARKE_HOME),
    "sophie.clarke": DemoPerson("Sophie", "Clarke", dt.date(1992, 5, 15), F, CLARKE_HOME),
    "jade.morris": DemoPerson("Jade", "Morris", dt.date(2011, 9, 1), F, MORRIS_HOME),
    "tia.morris": DemoPerson("Tia", "Morris", dt.date(2015, 4, 18), F, MORRIS_HOME),
    "donna.morris": DemoPerson("Donna", "Morris", dt.date(1984, 10, 22), F, MORRIS_HOME),
    "lee.barker": DemoPerson("Lee", "Barker", dt.date(1979, 3, 27), M, flags=(PDP,)),
    "jasmine.greene": DemoPerson("Jasmine", "Greene", dt.date(2012, 8, 8), F, GREENE_HOME),
    "michelle.greene": DemoPerson("Michelle", "Greene", dt.date(1980, 12, 3), F, GREENE_HOME),
    "mariam.bello": DemoPerson("Mariam", "Bello", dt.date(2015, 5, 29), F, BELLO_HOME),
    "funmilayo.adebisi": DemoPerson("Funmilayo", "Adebisi", dt.date(1976, 11, 19), F, BELLO_HOME),
    "mia.evans": DemoPerson("Mia", "Evans", dt.date(2013, 2, 11), F, EVANS_HOME),
    "lisa.evans": DemoPerson("Lisa", "Evans", dt.date(1987, 7, 29), F, EVANS_HOME),
    "steven.hale": DemoPerson("Steven", "Hale", dt.date(1983, 6, 16), M, EVANS_HOME),
    "lucas.silva": DemoPerson("Lucas", "Silva", dt.date(2023, 3, 21), M, SILVA_HOME),
    "ana.silva": DemoPerson("Ana", "Silva", dt.date(2000, 10, 10), F, SILVA_HOME),
    "noah.francis": DemoPerson("Noah", "Francis", dt.date(2019, 9, 9), M, FRANCIS_HOME),
    "tanya.francis": DemoPerson("Tanya", "Francis", dt.date(1991, 1, 31), F, FRANCIS_HOME),
    "aaliyah.grant": DemoPerson("Aaliyah", "Grant", dt.date(2012, 6, 12), F, GRANT_HOME),
    "marcia.grant": DemoPerson("Marcia", "Grant", dt.date(1985, 3, 9), F, GRANT_HOME),
    "wayne.pritchard": DemoPerson("Wayne", "Pritchard", dt.date(1982, 8, 14), M, GRANT_HOME),
    "yusuf.kaya": DemoPerson("Yusuf", "Kaya", dt.date(2018, 1, 1), M, KAYA_HOME,
                             born_approximately=True),
    "zeynep.kaya": DemoPerson("Zeynep", "Kaya", dt.date(2021, 1, 1), F, KAYA_HOME,
                              born_approximately=True),
    "mother.kaya": DemoPerson("", "Kaya", None, F, KAYA_HOME),
    "ruby.ashworth": DemoPerson("Ruby", "Ashworth", dt.date(2013, 3, 15), F, ASHWORTH_HOME),
    "claire.ashworth": DemoPerson("Claire", "Ashworth", dt.date(1981, 9, 23), F, ASHWORTH_HOME),
    "oscar.bennett": DemoPerson("Oscar", "Bennett", dt.date(2014, 5, 2), M, "9 Weston Park, London N8"),
    "ben.taylor": DemoPerson("Ben", "Taylor", dt.date(2010, 8, 21), M, TAYLOR_HOME),
    "evie.taylor": DemoPerson("Evie", "Taylor", dt.date(2013, 11, 30), F, TAYLOR_HOME),
    "paul.taylor": DemoPerson("Paul", "Taylor", dt.date(1975, 2, 2), M, TAYLOR_HOME),
    "blessing.okeke": DemoPerson("Blessing", "Okeke", dt.date(2014, 9, 17), F, OKEKE_HOME),
    "chidinma.okeke": DemoPerson("Chidinma", "Okeke", dt.date(2019, 12, 1), F, OKEKE_HOME),
    "ngozi.okeke": DemoPerson("Ngozi", "Okeke", dt.date(1986, 1, 8), F, OKEKE_HOME),
    # Enfield
    "charlie.harris": DemoPerson("Charlie", "Harris", dt.date(2021, 6, 6), M, HARRIS_HOME),
    "poppy.harris": DemoPerson("Poppy", "Harris", dt.date(2025, 4, 15), F, HARRIS_HOME),
    "kelly.harris": DemoPerson("Kelly", "Harris", dt.date(1997, 9, 9), F, HARRIS_HOME),
    "darren.cox": DemoPerson("Darren", "Cox", dt.date(1994, 12, 24), M),
    "simran.kaur": DemoPerson("Simran", "Kaur", dt.date(2012, 11, 11), F, KAUR_HOME),
    "harjit.singh": DemoPerson("Harjit", "Singh", dt.date(1975, 4, 30), M, KAUR_HOME),
    "manjit.kaur": DemoPerson("Manjit", "Kaur", dt.date(1978, 2, 17), F, KAUR_HOME),
    "andreas.georgiou": DemoPerson("Andreas", "Georgiou", dt.date(2012, 3, 1), M, GEORGIOU_HOME),
    "christos.georgiou": DemoPerson("Christos", "Georgiou", dt.date(1970, 6, 6), M, GEORGIOU_HOME),
    "eleni.georgiou": DemoPerson("Eleni", "Georgiou", dt.date(1976, 10, 28), F, GEORGIOU_HOME),
    "yasmin.ali": DemoPerson("Yasmin", "Ali", dt.date(2017, 5, 5), F, ALI_HOME),
    "omar.ali": DemoPerson("Omar", "Ali", dt.date(2019, 8, 8), M, ALI_HOME),
    "tariq.ali": DemoPerson("Tariq", "Ali", dt.date(1981, 10, 10), M, ALI_HOME),
    "leah.brown": DemoPerson("Leah", "Brown", dt.date(2013, 1, 21), F, BROWN_HOME),
    "joanne.brown": DemoPerson("Joanne", "Brown", dt.date(1982, 5, 5), F, BROWN_HOME),
    "kyle.mason": DemoPerson("Kyle", "Mason", dt.date(2011, 4, 4), M, "Enfield EN1 (address held by school)"),
    "toby.dobson": DemoPerson("Toby", "Dobson", dt.date(2024, 9, 2), M, DOBSON_HOME),
    "rebecca.dobson": DemoPerson("Rebecca", "Dobson", dt.date(1995, 6, 19), F, DOBSON_HOME),
    "grace.oyelaran": DemoPerson("Grace", "Oyelaran", dt.date(2016, 3, 3), F, OYELARAN_HOME),
    "tunde.oyelaran": DemoPerson("Tunde", "Oyelaran", dt.date(1983, 8, 1), M, OYELARAN_HOME),
    "jack.pearson": DemoPerson("Jack", "Pearson", dt.date(2015, 7, 7), M, PEARSON_HOME),
    "natalie.pearson": DemoPerson("Natalie", "Pearson", dt.date(1988, 12, 9), F, PEARSON_HOME),
    "sofia.marin": DemoPerson("Sofia", "Marin", dt.date(2011, 1, 1), F, "No fixed address (believed Edmonton N18)",
                              born_approximately=True),
}

V, S, P, X, O = "victim", "sibling", "parent_carer", "suspect", "other"
CSC = "Haringey Children's Social Care (MASH)"
ENFIELD_CSC = "Enfield Children's Social Care (MASH)"

REFERRALS: tuple[DemoReferral, ...] = (
    # --- Haringey ------------------------------------------------------------------------------
    DemoReferral(
        team="HY", days_ago=84, at="09:20", channel=Channel.EMAIL, source_agency="Little Acorns Nursery",
        referrer_name="Gemma Hollis, nursery manager", category=AllegationCategory.PHYSICAL,
        offence_days_before=1, urgent=True, summary_only=True,
        summary=("Nursery staff noticed bruising to the left upper arm of Maisie Reid (4) at drop-off; "
                 "Maisie said 'daddy grabbed me'. She calls her mother's partner, Dean Mullins, daddy. "
                 "Brother Kayden (7) attends the primary school next door."),
        people=((V, "maisie.reid"), (S, "kayden.reid"), (P, "leanne.reid"), (X, "dean.mullins")),
        assessment=Assessment((0, "10:05"), Route.JOINT_INVESTIGATION, crime_report=True,
                              investigator="investigator",
                              rationale=("Injury to a 4-year-old attributed by the child to a carer. "
                                         "Suspect has convictions for violence. Joint s47 enquiry with "
                                         "children's social care; medical today.")),
        notes=(
            Note((0, "10:40"), CaseLogKind.RESEARCH, "researcher",
                 "PNC: Dean MULLINS, two convictions for ABH (2016, 2019). CRIS: one domestic incident at "
                 "the address in 2025, Leanne REID the victim, no further action. CSC: family known, case "
                 "closed in 2024."),
            Note((0, "12:15"), CaseLogKind.MEETING, "owner",
                 "Strategy discussion with SW Kemi Adebola (MASH) and Dr Shah, North Middlesex. Agreed: "
                 "joint s47 enquiry, child protection medical this afternoon, Mullins to have no "
                 "unsupervised contact with the children while enquiries continue."),
            Note((0, "17:30"), CaseLogKind.MEDICAL, "owner",
                 "Child protection medical at North Middlesex by Dr Shah. Three small bruises to the left "
                 "upper arm in a pattern consistent with a grip. Mother says Mullins lifted Maisie out of "
                 "the bath; the doctor considers this does not explain the pattern."),
            Note((10, "15:00"), CaseLogKind.SUPERVISION, "supervisor",
                 "Reviewed. Enquiries proportionate and timely. Next: statements from nursery staff, "
                 "photographs and body map to the file, then CPS charging advice."),
        ),
        actions=(
            DemoAction((0, "12:30"), "ABE interview of Maisie Reid with an intermediary", "owner", (5, "17:00"),
                       finished_at=(4, "16:10"),
                       note="ABE completed at the Haringey suite. Maisie gave a short account consistent with "
                            "her first disclosure."),
            DemoAction((1, "09:30"), "Interview Dean Mullins under caution", "owner", (14, "17:00"),
                       finished_at=(8, "18:20"),
                       note="Arrested by appointment at Wood Green. No comment interview. Released under "
                            "investigation; safety plan with CSC remains in place."),
            DemoAction((10, "15:10"), "Obtain statements from the two nursery staff", "owner", (24, "17:00"),
                       finished_at=(19, "14:00"), note="Both statements obtained and on the file."),
            DemoAction((20, "11:00"), "Submit the file to CPS for charging advice", "owner", (35, "17:00")),
        ),
    ),
    DemoReferral(
        team="HY", days_ago=40, at="08:55", channel=Channel.POLICE_SYSTEM,
        source_agency="Met Police, North Area response team", referrer_name="PC Daniel Shaw",
        category=AllegationCategory.EMOTIONAL, offence_days_before=1, urgent=True, summary_only=True,
        summary=("Police attended 14 Cranley Road at 22:40 last night. Leanne Reid said Dean Mullins came "
                 "back to the address against the safety plan, argued with her and pushed her into a door. "
                 "Kayden (7) and Maisie (4) were awake upstairs and heard it. Mullins left before police "
                 "arrived."),
        people=((V, "kayden.reid"), (V, "maisie.reid"), (P, "leanne.reid"), (X, "dean.mullins")),
        assessment=Assessment((0, "09:40"), Route.POLICE_INVESTIGATION, crime_report=True,
                              investigator="investigator",
                              rationale=("Children present at a domestic assault by the suspect of an open "
                                         "CAIT investigation, in breach of the safety plan. Same officer to "
                                         "keep both cases together.")),
        notes=(
            Note((0, "10:15"), CaseLogKind.PARTNER_CONTACT, "owner",
                 "Told SW Kemi Adebola. CSC will convene a strategy meeting tomorrow morning."),
            Note((1, "11:30"), CaseLogKind.MEETING, "owner",
                 "Strategy meeting: threshold for an initial child protection conference met for both "
                 "children. Leanne Reid supported by an IDVA to apply for a non-molestation order."),
        ),
        actions=(
            DemoAction((0, "09:50"), "Trace and arrest Dean Mullins", "owner", (1, "17:00"),
                       finished_at=(0, "19:45"),
                       note="Arrested at his mother's address in Tottenham. Charged with common assault; "
                            "bailed to court with conditions not to contact Leanne Reid or attend the address."),
            DemoAction((1, "12:00"), "Police report for the initial child protection conference", "pclo",
                       (12, "12:00"), finished_at=(10, "15:30"), note="Report submitted to the conference chair."),
        ),
    ),
    DemoReferral(
        team="HY", days_ago=76, at="10:05", channel=Channel.EMAIL, source_agency="Ashmount Secondary School",
        referrer_name="Ms R. Kelly, designated safeguarding lead", category=AllegationCategory.PHYSICAL,
        offence_days_before=1, urgent=True,
        summary=("Elif Yilmaz (13) told her form tutor that her father hits her with a belt when she comes "
                 "home late. The tutor saw a red linear mark on the back of her left hand. Elif does not want "
                 "to go home tonight. Her brother Deniz (9) lives at the address."),
        people=((V, "elif.yilmaz"), (S, "deniz.yilmaz"), (X, "murat.yilmaz"), (P, "ayten.yilmaz")),
        assessment=Assessment((0, "10:50"), Route.JOINT_INVESTIGATION, crime_report=True,
                              rationale=("Disclosure of assault with a weapon by a parent, visible mark, child "
                                         "afraid to go home. Joint enquiry; see Elif at school today.")),
        notes=(
            Note((0, "13:30"), CaseLogKind.INFORMATION, "owner",
                 "Seen Elif at school with SW Tom Bryant. She repeated her account and showed the mark. "
                 "She agreed to stay with her maternal aunt tonight under a voluntary arrangement."),
            Note((14, "10:00"), CaseLogKind.SUPERVISION, "supervisor",
                 "Reviewed. Good early safeguarding. Father admits smacking but denies using a belt; "
                 "get CPS advice once the ABE has been reviewed."),
        ),
        actions=(
            DemoAction((0, "13:45"), "ABE interview of Elif Yilmaz", "owner", (3, "17:00"),
                       finished_at=(2, "15:00"), note="ABE completed; account consistent."),
            DemoAction((0, "13:50"), "Arrest and interview Murat Yilmaz", "owner", (2, "17:00"),
                       finished_at=(1, "20:10"),
                       note="Arrested at home. Admits smacking Elif, denies using a belt. Released under "
                            "investigation with the family's agreement that Elif stays with her aunt."),
            DemoAction((1, "10:00"), "Arrange a Turkish interpreter for the mother's statement", "owner",
                       (5, "17:00"), finished_at=(3, "11:20"), status=ActionStatus.CANCELLED,
                       note="Mother gave her statement in English and declined an interpreter."),
            DemoAction((14, "10:10"), "Review the ABE and ask CPS for charging advice", "owner", (28, "17:00")),
        ),
    ),
    DemoReferral(
        team="HY", days_ago=61, at="16:45", channel=Channel.PHONE,
        source_agency="North Middlesex University Hospital, paediatric emergency department",
        referrer_name="Dr Laura Bennett, paediatric registrar", category=AllegationCategory.PHYSICAL,
        urgent=True, offence_days_before=0,
        summary=("Ayaan Hassan (4 months) was brought in by his parents with a swollen right thigh; X-ray "
                 "shows a fracture of the femur. Parents say he rolled off the sofa. A skeletal survey is "
                 "planned for tomorrow. Sister Sagal (6) is at home with a family friend."),
        people=((V, "ayaan.hassan"), (S, "sagal.hassan"), (P, "hodan.hassan"), (P, "abdirahman.hassan")),
        written_followup=(0, "21:30"),
        assessment=Assessment((0, "17:20"), Route.JOINT_INVESTIGATION, crime_report=True,
                              rationale=("Unexplained fracture in a non-mobile infant. Joint enquiry; Ayaan to "
                                         "stay in hospital; plan for Sagal's safety tonight.")),
        notes=(
            Note((0, "19:00"), CaseLogKind.MEETING, "owner",
                 "Strategy discussion with the out-of-hours social worker and the ward. Ayaan stays on the "
                 "ward. Sagal to stay with the family friend, Mrs Farah, tonight."),
            Note((1, "16:00"), CaseLogKind.MEDICAL, "owner",
                 "Skeletal survey: no further fractures. Consultant Dr Ortiz's opinion is that a roll from a "
                 "sofa does not explain this fracture in a child of this age."),
            Note((7, "10:00"), CaseLogKind.SUPERVISION, "supervisor",
                 "Reviewed. Both parents were the only carers at the time. Independent expert opinion is "
                 "needed before interview."),
        ),
        actions=(
            DemoAction((1, "09:00"), "Scene visit and photographs of the living room and sofa", "owner",
                       (2, "17:00"), finished_at=(1, "14:30"), note="Scene photographed and measured."),
            DemoAction((1, "09:05"), "Obtain GP and health visitor records for both children", "owner",
                       (10, "17:00"), finished_at=(6, "12:00"), note="Records received; no earlier concerns."),
            DemoAction((7, "10:15"), "Instruct a consultant paediatric radiologist for an expert opinion",
                       "owner", (45, "17:00")),
        ),
    ),
    DemoReferral(
        team="HY", days_ago=88, at="11:30", channel=Channel.EMAIL, source_agency="Broad Lane Primary School",
        referrer_name="Mrs P. Otieno, deputy head", category=AllegationCategory.NEGLECT,
        summary=("Tyler (10) and Jayden (8) Campbell often arrive without breakfast and ask staff for food. "
                 "Uniform unwashed. Jayden has had untreated toothache for two weeks. Attendance 71%."),
        people=((V, "tyler.campbell"), (V, "jayden.campbell"), (P, "shanice.campbell")),
        assessment=Assessment((1, "09:30"), Route.SOCIAL_SERVICES_ONLY,
                              rationale=("Neglect concerns with no offence disclosed at this stage. CSC to "
                                         "complete a single assessment; re-refer if wilful neglect emerges.")),
        notes=(
            Note((1, "09:10"), CaseLogKind.RESEARCH, "researcher",
                 "PNC: no trace for Shanice CAMPBELL. CRIS and MERLIN: one welfare check at the address in "
                 "2025, children found safe."),
            Note((1, "10:00"), CaseLogKind.PARTNER_CONTACT, "desk",
                 "Decision shared with MASH; CSC have allocated a social worker for a single assessment."),
        ),
    ),
    DemoReferral(
        team="HY", days_ago=33, at="07:40", channel=Channel.POLICE_SYSTEM,
        source_agency="Met Police, North Area response team", referrer_name="PS Carla Mendes",
        category=AllegationCategory.NEGLECT, urgent=True, offence_days_before=1,
        summary=("Police attended 41 Dongola Road last night after a neighbour heard a young child crying "
                 "for over an hour. Tyler (11) was alone with Jayden (8) and Amelia (2). Little food in the "
                 "flat. Shanice Campbell returned two hours later and appeared intoxicated. The children "
                 "were taken to their maternal grandmother under police protection."),
        people=((V, "amelia.campbell"), (V, "jayden.campbell"), (V, "tyler.campbell"),
                (X, "shanice.campbell")),
        assessment=Assessment((0, "08:30"), Route.JOINT_INVESTIGATION, crime_report=True,
                              rationale=("Children left alone, including a 2-year-old, with an earlier "
                                         "neglect referral in the summer. Possible child cruelty. Joint "
                                         "enquiry.")),
        notes=(
            Note((0, "09:00"), CaseLogKind.INFORMATION, "owner",
                 "Designated officer confirms police protection ends at 14:00 today; the grandmother has "
                 "agreed to keep the children under a CSC safety plan."),
            Note((1, "14:00"), CaseLogKind.MEETING, "owner",
                 "Strategy meeting: s47 enquiry for all three children; ICPC to be booked."),
        ),
        actions=(
            DemoAction((0, "09:10"), "Statements from the attending officers and the neighbour", "owner",
                       (5, "17:00"), finished_at=(4, "12:00"), note="Three statements on the file."),
            DemoAction((1, "14:20"), "Interview Shanice Campbell under caution", "owner", (10, "17:00")),
        ),
    ),
    DemoReferral(
        team="HY", days_ago=55, at="15:20", channel=Channel.PHONE, source_agency=CSC,
        referrer_name="SW Daniel Frost", category=AllegationCategory.SEXUAL, urgent=True, offence_days_before=3,
        summary=("Niamh O'Brien (7) told her mother that Graham Pike, a lodger at her grandmother's house, "
                 "touched her over her clothes while she stayed there at the weekend. Mother has stopped "
                 "visits to the grandmother's address. Pike is believed to be a registered sex offender."),
        people=((V, "niamh.obrien"), (S, "cian.obrien"), (P, "siobhan.obrien"), (O, "maureen.obrien"),
                (X, "graham.pike")),
        written_followup=(3, "10:15"),
        assessment=Assessment((0, "16:00"), Route.JOINT_INVESTIGATION, crime_report=True,
                              investigator="investigator2",
                              rationale=("Sexual assault of a child alleged against a registered sex "
                                         "offender living where children stay. Urgent joint enquiry; "
                                         "MOSOVO to be told today.")),
        notes=(
            Note((0, "16:20"), CaseLogKind.RESEARCH, "researcher",
                 "ViSOR: Graham PIKE is a registered sex offender (2011, indecent images), managed by "
                 "Haringey MOSOVO, MAPPA level 2. The Fairview Road address has not been notified."),
            Note((0, "16:40"), CaseLogKind.PARTNER_CONTACT, "owner",
                 "Told DC Hammond, MOSOVO. Offender manager had no knowledge of the address."),
            Note((12, "11:00"), CaseLogKind.SUPERVISION, "supervisor",
                 "Reviewed. Arrest and ABE done quickly. Keep MAPPA informed; phone download is the main "
                 "outstanding line of enquiry."),
        ),
        actions=(
            DemoAction((0, "16:45"), "Arrest Graham Pike", "owner", (1, "12:00"), finished_at=(0, "21:30"),
                       note="Arrested at Fairview Road. Interviewed, denies the offence. Charged with failing "
                            "to notify a change of address; sexual assault under investigation."),
            DemoAction((1, "09:00"), "ABE interview of Niamh O'Brien", "owner", (3, "17:00"),
                       finished_at=(2, "14:00"), note="ABE completed; Niamh gave a clear account."),
            DemoAction((2, "10:00"), "Attend the MAPPA level 2 meeting with an update", "supervisor",
                       (9, "10:00"), finished_at=(9, "12:30"), note="Attended; risk plan updated."),
            DemoAction((12, "11:10"), "Chase the download of Graham Pike's phone", "owner", (70, "17:00")),
        ),
    ),
    DemoReferral(
        team="HY", days_ago=47, at="13:00", channel=Channel.PARTNER_PORTAL, source_agency=CSC,
        referrer_name="SW Aylin Kaya", partner_reference="MASH-26-1187", category=AllegationCategory.SEXUAL,
        summary=("Zofia Kowalska (15) has been messaging an adult man called 'Jay' on Snapchat for six weeks. "
                 "He has sent her gifts and asked to meet her at Wood Green station. Her mother found the "
                 "messages and told the school."),
        people=((V, "zofia.kowalska"), (P, "agnieszka.kowalska")),
        assessment=Assessment((0, "15:30"), Route.POLICE_INVESTIGATION, crime_report=True,
                              rationale=("Online grooming of a 15-year-old by an adult; suspect to be "
                                         "identified. Police lead; CSC support the family.")),
        notes=(
            Note((3, "12:00"), CaseLogKind.INFORMATION, "owner",
                 "Snapchat account linked by open-source checks to Ryan COLE, 24, of Tottenham. Not yet "
                 "confirmed."),
        ),
        actions=(
            DemoAction((0, "16:00"), "Seize and download Zofia's phone with consent", "owner", (2, "17:00"),
                       finished_at=(1, "11:00"), note="Phone seized with mother's consent; download requested."),
            DemoAction((0, "16:05"), "Refer Zofia to the exploitation (MACE) panel", "owner", (7, "17:00"),
                       finished_at=(5, "10:00"), note="Discussed at MACE; youth worker allocated."),
            DemoAction((3, "12:10"), "Production order for the Snapchat account data", "owner", (60, "17:00")),
        ),
    ),
    DemoReferral(
        team="HY", days_ago=20, at="10:15", channel=Channel.PHONE,
        source_agency="Haringey Health Visiting Service",
        referrer_name="Claire Dunn, health visitor", category=AllegationCategory.PHYSICAL, urgent=True,
        summary=("At a routine visit the health visitor saw a small bruise on the left cheek of Isla Thompson "
                 "(3 months), who is not yet rolling. Mother Chloe Thompson (19) could not explain it. "
                 "Isla's father, Jordan Ellis (22), visits daily."),
        people=((V, "isla.thompson"), (P, "chloe.thompson"), (P, "jordan.ellis")),
        assessment=Assessment((0, "10:50"), Route.JOINT_INVESTIGATION,
                              rationale=("Bruising on a non-mobile baby is a red flag. Child protection "
                                         "medical today; joint enquiry.")),
        notes=(
            Note((0, "17:00"), CaseLogKind.MEDICAL, "owner",
                 "Child protection medical at the Whittington by Dr Okonjo: a single 1 cm bruise to the "
                 "left cheek, no other injuries. Skeletal survey and bloods booked."),
            Note((2, "15:00"), CaseLogKind.MEDICAL, "owner",
                 "Skeletal survey clear and bloods normal. Paediatrician's opinion: no medical explanation "
                 "for the bruise."),
        ),
        actions=(
            DemoAction((0, "11:00"), "Research Jordan Ellis on PNC, CRIS and MERLIN", "researcher",
                       (0, "17:00"), finished_at=(0, "14:00"),
                       note="One reprimand for theft (2020). No domestic incidents recorded."),
            DemoAction((2, "15:10"), "Interview Chloe Thompson and Jordan Ellis under caution", "owner",
                       (14, "17:00")),
        ),
    ),
    DemoReferral(
        team="HY", days_ago=29, at="12:40", channel=Channel.EMAIL, source_agency="Markfield Park School",
        referrer_name="Mr Haroon Aziz, designated safeguarding lead", category=AllegationCategory.OTHER,
        urgent=True,
        summary=("Ruksana Begum (16) told the safeguarding lead she is to be taken to Bangladesh in the summer "
                 "to marry a cousin and that her father holds her passport. She is frightened of her family "
                 "finding out she has told the school."),
        people=((V, "ruksana.begum"), (S, "tahmina.begum"), (P, "shafiqul.islam")),
        assessment=Assessment((0, "13:30"), Route.JOINT_INVESTIGATION, investigator="investigator3",
                              rationale=("Risk of forced marriage. Do not alert the family. Forced Marriage "
                                         "Unit consulted; protection order to be considered.")),
        notes=(
            Note((0, "14:30"), CaseLogKind.PARTNER_CONTACT, "owner",
                 "Forced Marriage Unit consulted. Advice: seek a Forced Marriage Protection Order before "
                 "any contact with the family."),
            Note((8, "10:00"), CaseLogKind.SUPERVISION, "supervisor",
                 "Reviewed. Order in place; school and CSC to keep Ruksana's disclosure confidential."),
        ),
        actions=(
            DemoAction((0, "14:40"), "Apply for a Forced Marriage Protection Order with CSC legal", "owner",
                       (3, "17:00"), finished_at=(2, "16:00"),
                       note="Order made without notice at the family court; passports to be surrendered."),
            DemoAction((2, "16:10"), "Serve the order on Shafiqul Islam and recover passports", "owner",
                       (4, "17:00"), finished_at=(3, "19:00"), note="Order served; two passports recovered."),
        ),
    ),
    DemoReferral(
        team="HY", days_ago=70, at="09:05", channel=Channel.EMAIL, source_agency="Harris Lane Primary School",
        referrer_name="Mrs J. Doyle, headteacher", category=AllegationCategory.PHYSICAL, offence_days_before=1,
        summary=("Kofi Mensah (6) has three red marks on the back of his right thigh. He said his dad smacked "
                 "him with a slipper because he broke the television remote."),
        people=((V, "kofi.mensah"), (X, "emmanuel.mensah"), (P, "abena.mensah")),
        assessment=Assessment((0, "11:00"), Route.JOINT_INVESTIGATION, crime_report=True,
                              rationale=("Marks from an implement go beyond lawful chastisement. Joint "
                                         "enquiry; see Kofi at school.")),
        notes=(
            Note((0, "14:00"), CaseLogKind.INFORMATION, "owner",
                 "Kofi seen at school with the social worker; marks fading, photographs taken by the school "
                 "nurse."),
            Note((30, "11:00"), CaseLogKind.DECISION, "supervisor",
                 "CPS advise a community resolution is proportionate. Father admitted it, has no previous "
                 "record and has started a parenting programme. No further police action."),
        ),
        actions=(
            DemoAction((0, "14:10"), "Voluntary interview of Emmanuel Mensah", "owner", (7, "17:00"),
                       finished_at=(5, "11:00"), note="Interviewed; full admission and expressed remorse."),
        ),
    ),
    DemoReferral(
        team="HY", days_ago=66, at="14:30", channel=Channel.EMAIL, source_agency="Haringey School Nursing Service",
        referrer_name="Anna Kowal, school nurse", category=AllegationCategory.NEGLECT,
        summary=("Oliwia Nowak (10) has persistent untreated head lice and has missed three dental "
                 "appointments. Mother works night shifts and is hard to reach."),
        people=((V, "oliwia.nowak"), (P, "katarzyna.nowak")),
        assessment=Assessment((1, "09:15"), Route.SOCIAL_SERVICES_ONLY,
                              rationale=("Low-level neglect, no offence disclosed. Early help offered "
                                         "through the school.")),
    ),
    DemoReferral(
        team="HY", days_ago=58, at="11:10", channel=Channel.EMAIL, source_agency="Park Grove Secondary School",
        referrer_name="Mr D. Rowe, school counsellor", category=AllegationCategory.PHYSICAL,
        summary=("Sami Ahmed (12) told the school counsellor that his brother Bilal (19) punches him on the "
                 "arms when their parents are out and has taken his phone. No injuries seen today."),
        people=((V, "sami.ahmed"), (X, "bilal.ahmed"), (P, "nasreen.ahmed")),
        assessment=Assessment((0, "14:00"), Route.POLICE_INVESTIGATION, crime_report=True,
                              rationale=("Assault by an adult sibling; parents protective. Police lead, CSC "
                                         "informed.")),
        notes=(
            Note((1, "16:30"), CaseLogKind.INFORMATION, "owner",
                 "Spoke with Sami at home with his mother present. He repeated his account; mother "
                 "supportive and has asked Bilal to stay with an uncle."),
        ),
        actions=(
            DemoAction((1, "16:40"), "Voluntary interview of Bilal Ahmed", "owner", (10, "17:00"),
                       finished_at=(6, "13:00"),
                       note="Admitted pushing and taking the phone. Community resolution with the family's "
                            "agreement."),
        ),
    ),
    DemoReferral(
        team="HY", days_ago=50, at="08:30", channel=Channel.POLICE_SYSTEM,
        source_agency="Met Police, missing persons unit", referrer_name="DC Helen Price",
        category=AllegationCategory.SEXUAL, urgent=True, offence_days_before=1,
        summary=("Freya Walsh (14) was found after being missing overnight at the flat of Connor Doyle (19) "
                 "in Edmonton. She describes him as her boyfriend and has stayed there before."),
        people=((V, "freya.walsh"), (P, "roisin.walsh"), (X, "connor.doyle")),
        assessment=Assessment((0, "09:15"), Route.POLICE_INVESTIGATION, crime_report=True,
                              rationale=("Sexual activity with a 14-year-old by an adult is an offence "
                                         "whatever she says of consent. Police lead; CSC for Freya's "
                                         "welfare.")),
        notes=(
            Note((0, "12:00"), CaseLogKind.MEDICAL, "owner",
                 "Freya declined a medical examination after advice; her decision and reasons recorded."),
        ),
        actions=(
            DemoAction((0, "09:30"), "Arrest Connor Doyle", "owner", (1, "17:00"), finished_at=(0, "18:00"),
                       note="Arrested; prepared statement denying sexual activity. Released on bail."),
            DemoAction((1, "10:00"), "Serve a child abduction warning notice on Connor Doyle", "owner",
                       (3, "17:00"), finished_at=(2, "11:00"), note="Notice served and explained."),
            DemoAction((2, "11:30"), "Obtain the download of Freya's phone", "owner", (60, "17:00")),
        ),
    ),
    DemoReferral(
        team="HY", days_ago=44, at="09:15", channel=Channel.POLICE_SYSTEM,
        source_agency="Met Police, North Area response team", referrer_name="PC Omar Siddiqui",
        category=AllegationCategory.EMOTIONAL, offence_days_before=1,
        summary=("Police attended a domestic incident: Hakan and Sevgi Demir were arguing and Sevgi had a "
                 "cut lip. Emre (8) and Ayşe (6) were in the next room. Hakan was arrested for assault."),
        people=((V, "emre.demir"), (V, "ayse.demir"), (X, "hakan.demir"), (P, "sevgi.demir")),
        assessment=Assessment((0, "11:30"), Route.SOCIAL_SERVICES_ONLY,
                              rationale=("The assault is with the Community Safety Unit. No offence against "
                                         "the children; MERLIN shared with CSC for assessment.")),
        notes=(
            Note((0, "11:45"), CaseLogKind.PARTNER_CONTACT, "desk",
                 "Passed to MASH with the CSU officer's details."),
        ),
    ),
    DemoReferral(
        team="HY", days_ago=38, at="13:45", channel=Channel.PARTNER_PORTAL,
        source_agency="Haringey Youth Justice Service", referrer_name="Marcus Bell, case manager",
        partner_reference="YJS-2026-0419", category=AllegationCategory.OTHER, urgent=True,
        summary=("Daniel Adeyemi (15) has been missing four times this month. He was found in Southend with "
                 "£400 and two phones and is believed to be carrying drugs for an older group."),
        people=((V, "daniel.adeyemi"), (P, "grace.adeyemi")),
        assessment=Assessment((0, "15:00"), Route.JOINT_INVESTIGATION, investigator="investigator3",
                              rationale=("Child criminal exploitation. Joint enquiry; referral to the "
                                         "National Referral Mechanism.")),
        notes=(
            Note((2, "10:00"), CaseLogKind.INFORMATION, "owner",
                 "Return home interview done by the youth worker. Daniel names no one but describes being "
                 "driven out of London."),
        ),
        actions=(
            DemoAction((0, "15:20"), "Submit an NRM referral for Daniel", "owner", (5, "17:00"),
                       finished_at=(3, "12:00"),
                       note="NRM referral submitted; reasonable grounds decision awaited."),
            DemoAction((2, "10:10"), "Present Daniel's case at the next MACE panel", "owner", (45, "10:00")),
        ),
    ),
    DemoReferral(
        team="HY", days_ago=35, at="10:40", channel=Channel.EMAIL, source_agency="Haringey LADO",
        referrer_name="Rachel Wood, LADO", category=AllegationCategory.SEXUAL,
        summary=("Ella Murphy (9) told her mother that her swimming coach, Craig Dunmore, asked her to keep "
                 "'secrets' and gave her sweets in the changing area. No touching alleged."),
        people=((V, "ella.murphy"), (P, "kate.murphy"), (X, "craig.dunmore")),
        assessment=Assessment((0, "12:00"), Route.JOINT_INVESTIGATION,
                              rationale=("Possible grooming by a person in a position of trust. Joint "
                                         "enquiry alongside the LADO process.")),
        notes=(
            Note((12, "15:00"), CaseLogKind.DECISION, "supervisor",
                 "ABE: Ella describes no touching. Strategy meeting agreed no further police action; LADO "
                 "process continues with the employer."),
        ),
        actions=(
            DemoAction((0, "12:20"), "ABE interview of Ella Murphy", "owner", (7, "17:00"),
                       finished_at=(6, "15:00"), note="ABE completed."),
            DemoAction((0, "12:25"), "Check the leisure centre's CCTV for the changing area corridor", "owner",
                       (5, "17:00"), finished_at=(4, "10:00"), status=ActionStatus.CANCELLED,
                       note="CCTV overwritten after 14 days."),
        ),
    ),
    DemoReferral(
        team="HY", days_ago=81, at="15:10", channel=Channel.EMAIL, source_agency="Crouch End Health Centre",
        referrer_name="Dr S. Patel, GP", category=AllegationCategory.PHYSICAL,
        summary=("Harry Clarke (4) seen with a bruise to the forehead. Mother says he fell from a climbing "
                 "frame at the park. GP finds the account consistent but referred as mother seemed anxious."),
        people=((V, "harry.clarke"), (P, "sophie.clarke")),
        assessment=Assessment((1, "10:00"), Route.NO_FURTHER_ACTION,
                              rationale=("Injury consistent with the account; no earlier concerns; checks "
                                         "show nothing known. GP and health visitor told.")),
    ),
    DemoReferral(
        team="HY", days_ago=15, at="11:25", channel=Channel.EMAIL, source_agency="Lordship Lane Primary School",
        referrer_name="Ms F. Ahmed, designated safeguarding lead", category=AllegationCategory.EMOTIONAL,
        summary=("Deniz Yilmaz (9) told a teaching assistant that his father has moved back home and 'is "
                 "angry all the time'. He says he is scared to go home. His sister Elif was the subject of "
                 "a CAIT referral in the summer."),
        people=((V, "deniz.yilmaz"), (S, "elif.yilmaz"), (X, "murat.yilmaz"), (P, "ayten.yilmaz")),
        assessment=Assessment((0, "13:00"), Route.JOINT_INVESTIGATION,
                              rationale=("Father returned home while an investigation of assault on Elif is "
                                         "open. Joint enquiry; speak to both children.")),
        notes=(
            Note((1, "10:00"), CaseLogKind.INFORMATION, "owner",
                 "Deniz seen at school with SW Tom Bryant. No disclosure of physical harm; he describes "
                 "shouting every evening."),
        ),
        actions=(
            DemoAction((1, "10:15"), "Speak to Elif about her father's return", "owner", (4, "17:00"),
                       finished_at=(3, "16:00"),
                       note="Elif says her father came back two weeks ago; she feels safe at her aunt's."),
            DemoAction((3, "16:10"), "Strategy meeting with CSC on the father's return", "owner", (10, "17:00")),
        ),
    ),
    DemoReferral(
        team="HY", days_ago=27, at="14:00", channel=Channel.EMAIL, source_agency="Haringey CAMHS",
        referrer_name="Dr E. Lindqvist, clinical psychologist", category=AllegationCategory.SEXUAL,
        summary=("During therapy Jade Morris (15) said her former stepfather, Lee Barker, sexually abused her "
                 "between the ages of 10 and 12. He no longer lives with the family. Jade is willing to "
                 "speak to police."),
        people=((V, "jade.morris"), (S, "tia.morris"), (P, "donna.morris"), (X, "lee.barker")),
        assessment=Assessment((1, "09:30"), Route.POLICE_INVESTIGATION, crime_report=True,
                              investigator="investigator2",
                              rationale=("Non-recent sexual abuse; suspect no longer in the household. Police "
                                         "lead; check whether he now lives with children.")),
        notes=(
            Note((1, "11:00"), CaseLogKind.RESEARCH, "researcher",
                 "PNC: Lee BARKER, warning marker for violence; flagged as a potentially dangerous person "
                 "by Essex Police. Current address in Harlow, Essex, with a partner who has two children."),
            Note((2, "09:00"), CaseLogKind.PARTNER_CONTACT, "owner",
                 "Essex Police and Essex children's services told of the allegation and the children at "
                 "his address."),
        ),
        actions=(
            DemoAction((1, "11:20"), "ABE interview of Jade Morris", "owner", (30, "17:00")),
            DemoAction((1, "11:25"), "Ask Essex Police for a welfare visit to the Harlow address", "owner",
                       (3, "17:00"), finished_at=(2, "09:30"), note="Essex visited; children seen and well."),
        ),
    ),
    DemoReferral(
        team="HY", days_ago=62, at="16:00", channel=Channel.EMAIL, source_agency="Haringey CAMHS",
        referrer_name="Nurse Bola Ade", category=AllegationCategory.EMOTIONAL,
        summary=("Jasmine Greene (14) is self-harming and says her mother's drinking means she looks after "
                 "herself most evenings. No allegation of an offence."),
        people=((V, "jasmine.greene"), (P, "michelle.greene")),
        assessment=Assessment((1, "09:45"), Route.SOCIAL_SERVICES_ONLY,
                              rationale="No offence disclosed; CSC and CAMHS to support Jasmine and her mother."),
    ),
    DemoReferral(
        team="HY", days_ago=22, at="09:50", channel=Channel.PHONE, source_agency=CSC,
        referrer_name="SW Grace Lambert", category=AllegationCategory.PHYSICAL, urgent=True, offence_days_before=1,
        summary=("Mariam Bello (11) arrived at school with a swollen left eye and said her aunt hit her with a "
                 "shoe. She lives with her aunt, Funmilayo Adebisi, in a private fostering arrangement the "
                 "council did not know of."),
        people=((V, "mariam.bello"), (X, "funmilayo.adebisi")),
        written_followup=(0, "14:05"),
        assessment=Assessment((0, "10:30"), Route.JOINT_INVESTIGATION, crime_report=True,
                              rationale=("Visible injury attributed to a carer; unnotified private "
                                         "fostering. Joint enquiry.")),
        notes=(
            Note((0, "15:30"), CaseLogKind.INFORMATION, "owner",
                 "Mariam seen at school. She repeated her account. Placed in emergency foster care with her "
                 "agreement."),
        ),
        actions=(
            DemoAction((0, "15:40"), "Interview Funmilayo Adebisi under caution", "owner", (3, "17:00"),
                       finished_at=(2, "13:00"),
                       note="Interviewed; says she slapped Mariam once. Released under investigation."),
            DemoAction((0, "15:45"), "Obtain the school's photographs of the injury", "owner", (2, "17:00")),
        ),
    ),
    DemoReferral(
        team="HY", days_ago=9, at="15:30", channel=Channel.EMAIL, source_agency="Bruce Grove Youth Space",
        referrer_name="Jo Ferris, youth worker", category=AllegationCategory.SEXUAL,
        summary=("Mia Evans (13) told her youth worker that her mother's boyfriend, Steven Hale, comes into "
                 "the bathroom while she is showering and makes comments about her body. No touching "
                 "alleged."),
        people=((V, "mia.evans"), (P, "lisa.evans"), (X, "steven.hale")),
        assessment=Assessment((1, "09:20"), Route.JOINT_INVESTIGATION,
                              rationale="Possible sexual offence by an adult in the household. Joint enquiry."),
        notes=(
            Note((2, "14:00"), CaseLogKind.MEETING, "owner",
                 "Strategy meeting: Hale to leave the address while enquiries continue; mother agrees."),
        ),
        actions=(
            DemoAction((2, "14:10"), "ABE interview of Mia Evans", "owner", (9, "17:00")),
        ),
    ),
    DemoReferral(
        team="HY", days_ago=6, at="10:20", channel=Channel.EMAIL, source_agency="Haringey Early Help",
        referrer_name="Sam Oduya, family support worker", category=AllegationCategory.NEGLECT,
        summary=("A neighbour found Lucas Silva (3) alone in the street in his nappy at 07:00. His mother, "
                 "Ana Silva, was asleep. First known incident."),
        people=((V, "lucas.silva"), (P, "ana.silva")),
        assessment=Assessment((0, "14:00"), Route.SOCIAL_SERVICES_ONLY,
                              rationale=("Single incident, mother engaging with Early Help. No police "
                                         "action needed.")),
    ),
    DemoReferral(
        team="HY", hours_ago=2.5, channel=Channel.EMAIL, source_agency="Tower Gardens Primary School",
        referrer_name="Mrs L. Grant, designated safeguarding lead", category=AllegationCategory.PHYSICAL,
        offence_days_before=1,
        summary=("Noah Francis (7) told his teacher that his mum's friend 'Uncle Ricky' smacked him on the "
                 "head yesterday. No visible injury. Surname of 'Ricky' not known."),
        people=((V, "noah.francis"), (P, "tanya.francis")),
    ),
    DemoReferral(
        team="HY", hours_ago=1.2, channel=Channel.PHONE, source_agency="Whittington Hospital safeguarding team",
        referrer_name="Nurse Paula Reyes", category=AllegationCategory.EMOTIONAL, urgent=True,
        summary=("Aaliyah Grant (14) came to A&E after taking an overdose of paracetamol. She told staff she "
                 "is 'sick of' her stepfather shouting at her and pushing her. Medically stable."),
        people=((V, "aaliyah.grant"), (P, "marcia.grant"), (X, "wayne.pritchard")),
    ),
    DemoReferral(
        team="HY", days_ago=2, at="16:50", channel=Channel.PARTNER_PORTAL, source_agency="NSPCC Helpline",
        referrer_name="Anonymous caller via NSPCC", partner_reference="NSPCC-1129054",
        category=AllegationCategory.NEGLECT,
        summary=("Anonymous caller reports that the children at a flat on Park Lane, N17 are left alone most "
                 "evenings and can be heard crying. The caller believes the mother works evenings. Ages "
                 "given as about 8 and 5; there may be a third child."),
        people=((V, "yusuf.kaya"), (V, "zeynep.kaya"), (P, "mother.kaya")),
    ),
    DemoReferral(
        team="HY", days_ago=1, at="16:20", channel=Channel.EMAIL, source_agency="Highgate Wood School",
        referrer_name="Mr A. Novak, designated safeguarding lead", category=AllegationCategory.SEXUAL,
        summary=("Oscar Bennett (12) shared an intimate image of Ruby Ashworth (13), a pupil at another "
                 "school, in a group chat. The image has been deleted from the chat; Ruby's mother has been "
                 "told."),
        people=((V, "ruby.ashworth"), (P, "claire.ashworth"), (X, "oscar.bennett")),
    ),
    DemoReferral(
        team="HY", days_ago=73, at="18:30", channel=Channel.POLICE_SYSTEM,
        source_agency="Met Police, North Area response team", referrer_name="PC Kerry Walsh",
        category=AllegationCategory.PHYSICAL, offence_days_before=0,
        summary=("Ben Taylor (16) called police to say his father, Paul Taylor, punched him during an "
                 "argument about his phone. Graze to the left cheek. Sister Evie (12) was at home."),
        people=((V, "ben.taylor"), (S, "evie.taylor"), (X, "paul.taylor")),
        assessment=Assessment((0, "19:15"), Route.POLICE_INVESTIGATION, crime_report=True,
                              rationale="Assault by a parent; visible injury. Police lead; CSC informed."),
        notes=(
            Note((1, "10:00"), CaseLogKind.INFORMATION, "owner",
                 "Ben's statement taken at home. He does not want his father prosecuted but wants him to "
                 "get help."),
            Note((21, "12:00"), CaseLogKind.DECISION, "supervisor",
                 "CPS authorised a charge of common assault. Case to court; bail conditions keep Paul "
                 "Taylor away from the address."),
        ),
        actions=(
            DemoAction((0, "19:30"), "Arrest Paul Taylor", "owner", (1, "12:00"), finished_at=(0, "21:15"),
                       note="Arrested at the address; admits pushing, denies punching."),
        ),
    ),
    DemoReferral(
        team="HY", days_ago=16, at="11:00", channel=Channel.EMAIL,
        source_agency="Haringey Health Visiting Service",
        referrer_name="Rose Mbatha, health visitor", category=AllegationCategory.OTHER, urgent=True,
        summary=("Ngozi Okeke told the health visitor she plans a family trip abroad over Christmas for a "
                 "'special ceremony' for her daughters Blessing (12) and Chidinma (6). The health visitor "
                 "is concerned about female genital mutilation."),
        people=((V, "blessing.okeke"), (V, "chidinma.okeke"), (P, "ngozi.okeke")),
        assessment=Assessment((0, "12:00"), Route.JOINT_INVESTIGATION, investigator="investigator3",
                              rationale=("Risk of FGM before a planned trip. Joint enquiry; consider an FGM "
                                         "protection order.")),
        notes=(
            Note((1, "15:00"), CaseLogKind.MEETING, "owner",
                 "Strategy meeting: apply for an FGM protection order; CSC to visit with an interpreter."),
        ),
        actions=(
            DemoAction((1, "15:10"), "Apply for an FGM protection order", "owner", (5, "17:00"),
                       finished_at=(4, "14:00"), note="Order made; travel restrictions in place."),
            DemoAction((4, "14:10"), "Flag the children's details at the border", "owner", (7, "17:00"),
                       finished_at=(5, "10:00"), note="Port alert raised."),
        ),
    ),
    # --- Enfield -------------------------------------------------------------------------------
    DemoReferral(
        team="EN", days_ago=80, at="10:30", channel=Channel.EMAIL, source_agency=ENFIELD_CSC,
        referrer_name="SW Imran Sheikh", category=AllegationCategory.PHYSICAL, urgent=True, offence_days_before=1,
        summary=("Charlie Harris (5) has bruising to both cheeks. He told his teacher 'Mummy's friend Darren' "
                 "slapped him. Sister Poppy (1) lives at the address."),
        people=((V, "charlie.harris"), (S, "poppy.harris"), (P, "kelly.harris"), (X, "darren.cox")),
        assessment=Assessment((0, "11:15"), Route.JOINT_INVESTIGATION, crime_report=True,
                              rationale=("Facial bruising to a young child attributed to an adult "
                                         "visitor. Joint enquiry.")),
        notes=(
            Note((0, "17:00"), CaseLogKind.MEDICAL, "owner",
                 "Child protection medical at Chase Farm: bruising to both cheeks consistent with slaps."),
        ),
        actions=(
            DemoAction((0, "17:10"), "Arrest Darren Cox", "owner", (2, "17:00"), finished_at=(1, "08:30"),
                       note="Arrested; denies. Released on bail not to contact the family."),
        ),
    ),
    DemoReferral(
        team="EN", days_ago=64, at="13:15", channel=Channel.EMAIL, source_agency="Winchmore Hill School",
        referrer_name="Ms K. Evans, designated safeguarding lead", category=AllegationCategory.EMOTIONAL,
        summary=("Simran Kaur (13) says her parents keep her in her bedroom for whole weekends as a "
                 "punishment and take her phone. No injuries and no allegation of assault."),
        people=((V, "simran.kaur"), (P, "harjit.singh"), (P, "manjit.kaur")),
        assessment=Assessment((1, "09:00"), Route.SOCIAL_SERVICES_ONLY,
                              rationale="Concerns about parenting, no offence disclosed. CSC assessment."),
    ),
    DemoReferral(
        team="EN", days_ago=52, at="08:10", channel=Channel.POLICE_SYSTEM,
        source_agency="Met Police, North Area response team", referrer_name="PC Sean Murray",
        category=AllegationCategory.PHYSICAL, urgent=True, offence_days_before=1,
        summary=("Andreas Georgiou (14) says his father, Christos Georgiou, threatened him with a kitchen "
                 "knife during an argument last night. No injuries. Father arrested at the scene."),
        people=((V, "andreas.georgiou"), (X, "christos.georgiou"), (P, "eleni.georgiou")),
        assessment=Assessment((0, "09:00"), Route.POLICE_INVESTIGATION, crime_report=True,
                              rationale="Threat with a weapon by a parent; suspect in custody. Police lead."),
        notes=(
            Note((0, "16:00"), CaseLogKind.DECISION, "owner",
                 "CPS authorised a charge of threatening with a bladed article. Remanded to court."),
        ),
    ),
    DemoReferral(
        team="EN", days_ago=25, at="11:40", channel=Channel.PHONE, source_agency="Enfield Health Visiting Service",
        referrer_name="Jenny Walsh, health visitor", category=AllegationCategory.PHYSICAL, urgent=True,
        summary=("Poppy Harris (18 months) has a small burn on the back of her right hand. Mother says she "
                 "touched the oven door. Brother Charlie was the subject of a referral in the summer."),
        people=((V, "poppy.harris"), (S, "charlie.harris"), (P, "kelly.harris")),
        written_followup=(1, "09:10"),
        assessment=Assessment((0, "12:30"), Route.JOINT_INVESTIGATION, investigator="investigator",
                              rationale=("Injury to a toddler in a family with an open investigation. "
                                         "Joint enquiry.")),
        notes=(
            Note((0, "16:30"), CaseLogKind.MEDICAL, "owner",
                 "Seen by the paediatrician: burn consistent with brief contact with a hot surface; account "
                 "plausible."),
            Note((5, "10:00"), CaseLogKind.SUPERVISION, "supervisor",
                 "Reviewed. Medical supports the account. Keep with the open case on Charlie."),
        ),
    ),
    DemoReferral(
        team="EN", days_ago=41, at="15:00", channel=Channel.PARTNER_PORTAL, source_agency=ENFIELD_CSC,
        referrer_name="SW Beatriz Costa", partner_reference="ENF-MASH-55021", category=AllegationCategory.NEGLECT,
        summary=("Yasmin (9) and Omar (7) Ali are often late to school and hungry. Their father, Tariq Ali, "
                 "is unwell and struggling since their mother left."),
        people=((V, "yasmin.ali"), (V, "omar.ali"), (P, "tariq.ali")),
        assessment=Assessment((1, "09:30"), Route.SOCIAL_SERVICES_ONLY,
                              rationale="Neglect linked to the father's health; no offence. CSC to support."),
    ),
    DemoReferral(
        team="EN", days_ago=30, at="10:00", channel=Channel.EMAIL, source_agency="Enfield CAMHS",
        referrer_name="Dr H. Osman", category=AllegationCategory.SEXUAL,
        summary=("Leah Brown (13) says Kyle Mason (15), a pupil at her school, touched her over her clothes "
                 "in a stairwell and now sends her messages she does not want."),
        people=((V, "leah.brown"), (P, "joanne.brown"), (X, "kyle.mason")),
        assessment=Assessment((0, "14:30"), Route.POLICE_INVESTIGATION, crime_report=True,
                              rationale="Sexual assault between pupils. Police lead; school safety plan."),
        actions=(
            DemoAction((1, "10:00"), "ABE interview of Leah Brown", "owner", (7, "17:00"),
                       finished_at=(6, "14:00"), note="ABE completed."),
            DemoAction((6, "14:10"), "Voluntary interview of Kyle Mason with an appropriate adult", "owner",
                       (20, "17:00")),
        ),
    ),
    DemoReferral(
        team="EN", days_ago=14, at="12:20", channel=Channel.EMAIL, source_agency="Chase Side GP Practice",
        referrer_name="Dr M. Hughes, GP", category=AllegationCategory.PHYSICAL,
        summary=("Toby Dobson (2) has a fractured wrist after a fall from the sofa. Seen promptly; account "
                 "consistent with the injury according to the fracture clinic."),
        people=((V, "toby.dobson"), (P, "rebecca.dobson")),
        assessment=Assessment((1, "09:00"), Route.NO_FURTHER_ACTION,
                              rationale="Prompt presentation, consistent account, no earlier concerns."),
    ),
    DemoReferral(
        team="EN", hours_ago=4, channel=Channel.EMAIL, source_agency="Bush Hill Park Primary School",
        referrer_name="Mrs D. Achebe, designated safeguarding lead", category=AllegationCategory.PHYSICAL,
        summary=("Grace Oyelaran (10) has a healing burn on her forearm and gave two different accounts of "
                 "it to staff."),
        people=((V, "grace.oyelaran"), (P, "tunde.oyelaran")),
    ),
    DemoReferral(
        team="EN", days_ago=8, at="17:10", channel=Channel.PHONE,
        source_agency="Enfield Children's Services out-of-hours team", referrer_name="SW Peter Ryland",
        category=AllegationCategory.PHYSICAL, urgent=True, offence_days_before=0,
        summary=("Jack Pearson (11) ran to a neighbour saying his mother hit him with a hairbrush. Red mark "
                 "on his upper arm. He is staying with the neighbour tonight."),
        people=((V, "jack.pearson"), (X, "natalie.pearson")),
        assessment=Assessment((0, "18:00"), Route.JOINT_INVESTIGATION,
                              rationale="Assault with an implement by a parent. Joint enquiry."),
        actions=(
            DemoAction((1, "09:30"), "Speak to Jack and his mother", "owner", (2, "17:00"),
                       finished_at=(1, "15:00"), note="Jack repeated his account; mother admits one blow."),
        ),
    ),
    DemoReferral(
        team="EN", days_ago=3, at="09:30", channel=Channel.POLICE_SYSTEM, source_agency="Met Police, Enfield",
        referrer_name="DC Ruth Ansell", category=AllegationCategory.OTHER, urgent=True,
        summary=("Sofia Marin (about 15) was found in a car wash in Edmonton with no documents. She speaks "
                 "little English and may have been trafficked. Now in emergency foster care."),
        people=((V, "sofia.marin"),),
        assessment=Assessment((0, "10:00"), Route.JOINT_INVESTIGATION, investigator="investigator2",
                              rationale="Possible trafficking of a child. Joint enquiry; NRM referral."),
        notes=(
            Note((0, "14:00"), CaseLogKind.INFORMATION, "owner",
                 "Interpreter booked. Sofia says she came from Romania with a man she calls 'Uncle'."),
        ),
        actions=(
            DemoAction((0, "14:10"), "Submit an NRM referral for Sofia", "owner", (2, "17:00"),
                       finished_at=(1, "12:00"), note="Submitted."),
        ),
    ),
)


# --- Running a case through the services ----------------------------------------------------------

@dataclass(frozen=True)
class AssessStep:
    at: dt.datetime
    assessment: Assessment
    investigator: str
    crime_report_number: str


@dataclass(frozen=True)
class FollowupStep:
    at: dt.datetime
    arrived_at: dt.datetime


@dataclass(frozen=True)
class NoteStep:
    at: dt.datetime
    note: Note
    occurred_at: dt.datetime | None


@dataclass(frozen=True)
class SetActionStep:
    at: dt.datetime
    index: int
    action: DemoAction


@dataclass(frozen=True)
class FinishActionStep:
    at: dt.datetime
    index: int
    action: DemoAction


Step = AssessStep | FollowupStep | NoteStep | SetActionStep | FinishActionStep


class Cast:
    """The demo teams and officers, looked up by team code and username stem ("desk", "supervisor")."""

    def __init__(self, teams: dict[str, Team], officers: dict[str, Officer]) -> None:
        self.teams = teams
        self.officers = officers

    def officer(self, stem: str, team_code: str) -> Officer:
        return self.officers[f"{stem}-{team_code.lower()}"]

    def investigator_stems(self, team_code: str) -> list[str]:
        suffix = f"-{team_code.lower()}"
        return sorted(name.removesuffix(suffix) for name in self.officers
                      if name.startswith("investigator") and name.endswith(suffix))


@dataclass
class CaseFile:
    """A referral being worked through its history, with the actions set on it so far."""

    scenario: DemoReferral
    referral: Referral
    cast: Cast
    actions: dict[int, Action] = field(default_factory=dict)

    def officer(self, stem: str) -> Officer:
        if stem == "owner":
            return self.referral.owner or self.cast.officer("desk", self.scenario.team)
        return self.cast.officer(stem, self.scenario.team)


def _london(day: dt.date, clock: str) -> dt.datetime:
    hours, minutes = (int(part) for part in clock.split(":"))
    return dt.datetime.combine(day, dt.time(hours, minutes), tzinfo=LONDON)


def _received_at(scenario: DemoReferral, now: dt.datetime) -> dt.datetime:
    if scenario.hours_ago is not None:
        return (now - dt.timedelta(hours=scenario.hours_ago)).replace(second=0, microsecond=0)
    day = now.astimezone(LONDON).date() - dt.timedelta(days=scenario.days_ago)
    return _london(day, scenario.at)


def _moment(received_at: dt.datetime, moment: Moment) -> dt.datetime:
    days, clock = moment
    return _london(received_at.astimezone(LONDON).date() + dt.timedelta(days=days), clock)


def _crime_report_number(rng: random.Random, at: dt.datetime, issued: set[str]) -> str:
    """A CRIS number in one format, "CRIS 3012345/26", never the same twice."""
    while True:
        number = f"CRIS {rng.randint(3010000, 3099999)}/{at.astimezone(LONDON).year % 100:02d}"
        if number not in issued:
            issued.add(number)
            return number


def _plan(scenario: DemoReferral, *, cast: Cast, received_at: dt.datetime, logged_at: dt.datetime,
          rng: random.Random, issued: set[str]) -> list[Step]:
    """Every step after logging, in the order it happened. Randomness is drawn whether or not a
    step turns out to be in the future, so the demo is the same on every run of the same day."""
    earliest = logged_at + dt.timedelta(minutes=1)

    def when(moment: Moment) -> dt.datetime:
        return max(_moment(received_at, moment), earliest)

    steps: list[Step] = []
    if scenario.assessment is not None:
        assessed_at = when(scenario.assessment.when)
        investigator = scenario.assessment.investigator or rng.choice(cast.investigator_stems(scenario.team))
        number = _crime_report_number(rng, assessed_at, issued) if scenario.assessment.crime_report else ""
        steps.append(AssessStep(assessed_at, scenario.assessment, investigator, number))
    if scenario.written_followup is not None:
        recorded_at = when(scenario.written_followup)
        arrived_at = max(recorded_at - dt.timedelta(minutes=rng.randint(10, 50)), received_at)
        steps.append(FollowupStep(recorded_at, arrived_at))
    for note in scenario.notes:
        recorded_at = when(note.when)
        occurred_at = None
        # Meetings, medicals and calls are written up a little after they happen.
        if note.kind in (CaseLogKind.MEETING, CaseLogKind.MEDICAL, CaseLogKind.PARTNER_CONTACT):
            occurred_at = max(recorded_at - dt.timedelta(minutes=rng.randint(15, 90)), received_at)
        steps.append(NoteStep(recorded_at, note, occurred_at))
    for index, action in enumerate(scenario.actions):
        set_at = when(action.set_at)
        steps.append(SetActionStep(set_at, index, action))
        if action.finished_at is not None:
            finished_at = max(_moment(received_at, action.finished_at), set_at + dt.timedelta(minutes=1))
            steps.append(FinishActionStep(finished_at, index, action))
    return sorted(steps, key=lambda step: step.at)


def _person_details(role: str, key: str, *, known: dict[str, Person],
                    today: dt.date) -> services.PersonDetails:
    if key in known:
        return services.PersonDetails(role=role, existing=known[key])
    person = PEOPLE[key]
    born = person.born + (today - AGES_AS_OF) if person.born else None
    return services.PersonDetails(
        role=role, first_name=person.first_name, last_name=person.last_name, date_of_birth=born,
        date_of_birth_approximate=person.born_approximately, gender=person.gender, address=person.address,
        flags={flag: True for flag in person.flags},
    )


def _partner_email(referrer_name: str) -> str:
    """An invented address for the named referrer (the partner contact an overdue update goes to)."""
    name = referrer_name.split(",")[0].lower()
    slug = "".join(ch if ch.isalnum() else "." for ch in name).strip(".")
    while ".." in slug:
        slug = slug.replace("..", ".")
    return f"{slug or 'referrer'}@partners.example" if referrer_name else ""


def _log(scenario: DemoReferral, *, cast: Cast, received_at: dt.datetime, logged_at: dt.datetime,
         known: dict[str, Person], today: dt.date) -> Referral:
    desk_sergeant = cast.officer("desk", scenario.team)
    offence_date = None
    if scenario.offence_days_before is not None:
        offence_date = received_at.astimezone(LONDON).date() - dt.timedelta(days=scenario.offence_days_before)
    referral = services.referral_log(
        team=cast.teams[scenario.team], actor=desk_sergeant, now=logged_at, received_at=received_at,
        channel=scenario.channel, source_agency=scenario.source_agency, referrer_name=scenario.referrer_name,
        partner_reference=scenario.partner_reference, allegation_category=scenario.category,
        offence_date=offence_date, summary=scenario.summary, urgent=scenario.urgent,
        summary_only_offence=scenario.summary_only and offence_date is not None,
        referrer_email=_partner_email(scenario.referrer_name),
        people=[_person_details(role, key, known=known, today=today) for role, key in scenario.people],
    )
    # Remember who was created, so a later referral links the same person rather than a duplicate.
    links = referral.referral_people.select_related("person").order_by("pk")
    for (_role, key), link in zip(scenario.people, links, strict=True):
        known.setdefault(key, link.person)
    return referral


@dataclass(frozen=True)
class LaterStep:
    """A step added by an app above referrals (the CRAM), run on the referral as it then stands."""

    at: dt.datetime
    run: Callable[[Referral], None]


# Given a referral just logged and when it is assessed, the steps another app adds to its history.
LaterSteps = Callable[[Referral, dt.datetime], list[LaterStep]]


def _carry_out(step: Step | LaterStep, case_file: CaseFile) -> None:
    match step:
        case LaterStep():
            step.run(case_file.referral)
        case AssessStep():
            owner = None
            supervising_officer = None
            if step.assessment.route in (Route.POLICE_INVESTIGATION, Route.JOINT_INVESTIGATION):
                owner = case_file.officer(step.investigator)
                supervising_officer = case_file.officer("supervisor")
            case_file.referral = services.referral_assess(
                referral=case_file.referral, actor=case_file.officer("desk"), now=step.at,
                urgency=Urgency.URGENT if case_file.scenario.urgent else Urgency.ROUTINE,
                route=step.assessment.route, rationale=step.assessment.rationale, owner=owner,
                supervising_officer=supervising_officer, crime_report_number=step.crime_report_number,
            )
        case FollowupStep():
            case_file.referral = services.written_followup_record(
                referral=case_file.referral, actor=case_file.officer("desk"), now=step.at, received_at=step.arrived_at,
                note=f"Emailed by {case_file.scenario.referrer_name}; it matches the phone account.",
            )
        case NoteStep():
            services.case_log_append(
                referral=case_file.referral, kind=step.note.kind, text=step.note.text,
                actor=case_file.officer(step.note.by), now=step.at, occurred_at=step.occurred_at,
            )
        case SetActionStep():
            case_file.actions[step.index] = services.action_create(
                referral=case_file.referral, actor=case_file.officer("owner"), now=step.at,
                description=step.action.description, owner=case_file.officer(step.action.owner),
                due_at=_moment(case_file.referral.received_at, step.action.due),
            )
        case FinishActionStep():
            action = case_file.actions[step.index]
            services.action_finish(action=action, actor=action.owner, now=step.at, status=step.action.status,
                                   note=step.action.note)


def seed_referrals(*, cast: Cast, now: dt.datetime, rng: random.Random, later: LaterSteps | None = None) -> int:
    """Log every demo referral in the order received and replay its history up to `now`.

    `later` lets an app above referrals add its own steps (CRAMs) into each history, in time order.
    """
    known: dict[str, Person] = {}
    issued: set[str] = set()
    received = sorted(((_received_at(scenario, now), scenario) for scenario in REFERRALS),
                      key=lambda pair: pair[0])
    for received_at, scenario in received:
        # A phone referral is logged during the call; anything else when the desk opens it.
        delay = rng.randint(2, 10) if scenario.channel == Channel.PHONE else rng.randint(8, 45)
        logged_at = min(received_at + dt.timedelta(minutes=delay), now)
        referral = _log(scenario, cast=cast, received_at=received_at, logged_at=logged_at, known=known,
                        today=now.astimezone(LONDON).date())
        case_file = CaseFile(scenario=scenario, referral=referral, cast=cast)
        steps: list[Step | LaterStep] = list(_plan(scenario, cast=cast, received_at=received_at,
                                                   logged_at=logged_at, rng=rng, issued=issued))
        assessed_at = next((step.at for step in steps if isinstance(step, AssessStep)), None)
        if later is not None and assessed_at is not None:
            steps = sorted(steps + later(referral, assessed_at), key=lambda step: step.at)
        for step in steps:
            if step.at > now:
                break
            _carry_out(step, case_file)
    return len(received)


# --- Teams and officers -----------------------------------------------------------------------------

def seed_teams() -> dict[str, Team]:
    teams = {code: Team.objects.get_or_create(code=code, defaults={"name": name})[0]
             for code, name in TEAMS.items()}
    for team in teams.values():
        team_timescales_create(team=team)
    return teams


def seed_officers(*, teams: dict[str, Team], password: str) -> dict[str, Officer]:
    """Create or refresh every demo officer; each run resets the password to the demo one."""
    # One hash for all: hashing is deliberately slow, and every demo user shares the password anyway.
    password_hash = make_password(password)
    groups = {role: Group.objects.get_or_create(name=role)[0] for role in Role.values}
    officers: dict[str, Officer] = {}
    for demo in (*OFFICERS, ADMINISTRATOR):
        is_administrator = Role.ADMINISTRATOR in demo.roles
        officer, _created = Officer.objects.update_or_create(
            username=demo.username,
            defaults={
                "first_name": demo.first_name, "last_name": demo.last_name, "rank": demo.rank,
                "staff_number": demo.staff_number, "team": teams[demo.team], "is_active": True,
                "is_staff": is_administrator, "is_superuser": is_administrator, "password": password_hash,
            },
        )
        officer.groups.set([groups[role] for role in demo.roles])
        officers[demo.username] = officer
    _line_managers_and_skills(officers)
    return officers


def _line_managers_and_skills(officers: dict[str, Officer]) -> None:
    """Everyone but the supervisors reports to their team's supervisor; skills as SKILLS says."""
    for username, officer in officers.items():
        stem, _, team = username.rpartition("-")
        supervisor = officers.get(f"supervisor-{team}")
        officer.line_manager = supervisor if supervisor and supervisor != officer and team else None
        officer.skills = SKILLS.get(stem, [])
        officer.save(update_fields=["line_manager", "skills"])


def mark_leaver(*, officers: dict[str, Officer], today: dt.date) -> None:
    """One Haringey investigator leaves soon, with open work for the exit checklist."""
    leaver = officers[LEAVER]
    leaver.leaving_date = today + dt.timedelta(days=LEAVER_IN_DAYS)
    leaver.save(update_fields=["leaving_date"])


def demo_referrals_exist() -> bool:
    return Referral.objects.filter(logged_by__username__in=DEMO_USERNAMES).exists()

"""Seeds the five product groups and the twelve cloud services with their intake
checklists (T-3; support guide 4.3, "Service-Specific Information")."""

from django.db import migrations

GROUPS = [
    ("agent-experience", "Agent Experience"),
    ("voice-network", "Voice and Network"),
    ("routing-self-service", "Routing and Self-Service"),
    ("digital-outbound", "Digital and Outbound"),
    ("analytics-workforce", "Analytics and Workforce"),
]

COMMON = (
    "Problem details: symptoms, what users experience, error messages\n"
    "Site where the issue occurs:\n"
    "Caller number (ANI), if known:\n"
    "Dialed number (DNIS):\n"
    "Agent name or ID of at least one affected agent:\n"
    "Date, time and time zone of the issue or examples:\n"
    "How many agents, users or callers are affected:\n"
    "Lines of business affected:\n"
)

SERVICES = [
    ("agent-desktop", "Agent Desktop", "agent-experience", [
        "Region where the issue occurs",
        "Are all or only some agents affected?",
        "Does it work on a different PC, or with a different agent on the same PC?",
        "Error message and a screenshot",
        "Agent ID, time and time zone",
        "Browser log if applicable (open the developer tools before reproducing)",
    ]),
    ("call-back", "Call Back", "routing-self-service", [
        "Exact time of the call, with time zone",
        "New or existing application (has it ever worked?)",
        "Expected versus actual behaviour (scenario)",
    ]),
    ("call-recording", "Call Recording", "voice-network", [
        "Region where the issue occurs",
        "Calls in question (ID, DNIS, ANI, time and time zone)",
        "Supervisor or agent ID",
        "Has this ever worked before?",
        "Screenshot from the recording or speech analytics screen",
        "Permission for Customer Care to listen to the call, if applicable",
    ]),
    ("chat-email-cobrowse", "Chat / Email / Co-Browse", "digital-outbound", [
        "Region where the issue occurs",
        "New or existing application (has it ever worked?)",
        "Expected versus actual behaviour (scenario)",
        "Examples of good and bad contacts",
        "Exact time of the contact, with time zone",
    ]),
    ("configuration-environment", "Configuration Environment", "agent-experience", [
        "Region where the issue occurs (agent set-up, platform administration)",
        "New or existing application (has it ever worked?)",
        "Expected versus actual behaviour",
    ]),
    ("ivr", "IVR", "routing-self-service", [
        "Region where the issue occurs",
        "New or existing application (has it ever worked?)",
        "Exact time of an affected call, with time zone",
        "How to reproduce, if possible",
        "What the caller and the agent experience",
    ]),
    ("network", "Network", "voice-network", [
        "Error messages seen by the agent, with a screenshot",
        "Scenario in which the issue is seen",
        "Are agents affected? How many?",
        "Is the issue reproducible?",
    ]),
    ("outbound", "Outbound", "digital-outbound", [
        "New or existing application (has it ever worked?)",
        "Expected versus actual behaviour (scenario)",
        "Good and bad call examples",
        "Exact time of the outbound call, with time zone",
        "DNIS, ANI and the agent's DN, if applicable",
    ]),
    ("reporting", "Reporting", "analytics-workforce", [
        "Region where the issue occurs",
        "Screenshot of the issue, with the time and time zone it was taken",
        "Expected versus actual result",
        "Screenshots from the other systems the report is compared with",
        "Supervisor name",
        "Has this report or widget ever worked?",
    ]),
    ("routing", "Routing", "routing-self-service", [
        "New or existing application (has it ever worked?)",
        "Expected versus actual behaviour (scenario)",
        "Good and bad call examples",
        "Exact time of the call, with time zone",
        "DNIS, ANI and the agent's DN, if applicable",
    ]),
    ("telephony", "Telephony", "voice-network", [
        "Error messages seen by the agent",
        "Call scenario in which the issue is seen",
        "Are agents affected? How many?",
        "Is the issue reproducible?",
        "One or more DNIS / ANI / agent IDs of a problem call, ideally from the last 12 hours",
    ]),
    ("workforce-management", "Workforce Management", "analytics-workforce", [
        "Region where the issue occurs",
        "Screenshot of the issue, with the time and time zone it was taken",
        "Steps to reproduce",
        "Has this ever worked before?",
        "Expected versus actual result",
        "Supervisor login",
        "Warnings or errors shown, and the browser used",
    ]),
]


def checklist(items):
    specific = "\n".join(f"- {item}:" for item in items)
    return f"{COMMON}\nService-specific information:\n{specific}\n"


def seed(apps, schema_editor):
    ProductGroup = apps.get_model("cases", "ProductGroup")
    CloudService = apps.get_model("cases", "CloudService")
    groups = {}
    for slug, name in GROUPS:
        groups[slug], _ = ProductGroup.objects.get_or_create(slug=slug, defaults={"name": name})
    for slug, name, group, items in SERVICES:
        CloudService.objects.update_or_create(
            slug=slug,
            defaults={"name": name, "product_group": groups[group], "checklist": checklist(items)},
        )


def unseed(apps, schema_editor):
    apps.get_model("cases", "CloudService").objects.filter(
        slug__in=[s[0] for s in SERVICES]
    ).delete()
    apps.get_model("cases", "ProductGroup").objects.filter(slug__in=[g[0] for g in GROUPS]).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]

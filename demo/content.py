"""What the demo cases say: customers' subjects and descriptions per cloud service, service
requests, admin and privacy requests, and the lines care and customers write as a case goes
on. Templates: ``{site}``, ``{queue}``, ``{n}``, ``{when}``, ``{browser}``, ``{agent}`` and
``{service}`` are filled in per case by ``demo.planner``."""

from __future__ import annotations

from cases.models import SubType

SITES = ("Berlin", "Austin", "Manila", "Krakow", "Leeds", "Toronto", "Pune", "Dublin")
QUEUES = ("Billing", "Claims", "Sales", "Retention", "Tech Support", "VIP", "Collections")
BROWSERS = ("Chrome 126", "Edge 125", "Firefox 127")

# Per service: (subject, description) templates; {site}, {queue}, {n}, {when}, {browser},
# {agent} and {number} are filled in per case.
TOPICS: dict[str, tuple[tuple[str, str], ...]] = {
    "agent-desktop": (
        (
            "Agent desktop freezes when accepting a chat in {site}",
            "Since this morning about {n} agents in {site} see the desktop freeze for 20-30 "
            "seconds when they accept a chat from the {queue} queue. Reloading the page "
            "helps for a while. Browser: {browser}. First seen {when}.",
        ),
        (
            "Agents cannot log in: 'Session expired' right after sign-in",
            "Agent {agent} and {n} colleagues get 'Session expired' immediately after "
            "signing in. It works on another PC with the same agent. Browser: {browser}.",
        ),
        (
            "Wrap-up codes missing on the agent desktop",
            "The wrap-up codes for the {queue} queue no longer show on the desktop. Agents "
            "cannot finish their after-call work. Affected since {when}.",
        ),
    ),
    "call-back": (
        (
            "Scheduled call-backs are not placed for the {queue} queue",
            "Customers who asked for a call-back between 9 and 11 were never called. We "
            "count {n} missed call-backs since {when}. The application worked last week.",
        ),
        (
            "Call-back offered outside business hours",
            "The IVR offers call-backs after 18:00 local time in {site}, although the "
            "schedule says the queue closes at 17:00. Example call at {when}.",
        ),
    ),
    "call-recording": (
        (
            "Recordings missing for calls transferred to {queue}",
            "Calls transferred from the main queue to {queue} have no recording after the "
            "transfer. Example call at {when}, agent {agent}. Around {n} calls a day.",
        ),
        (
            "Recording playback stops after 2 minutes",
            "Supervisors in {site} cannot play recordings past the 2-minute mark. Download "
            "works. Browser: {browser}. You may listen to the example calls.",
        ),
        (
            "Screen recording out of sync with audio",
            "The screen recording runs about 40 seconds ahead of the audio for agents in "
            "{site}. This started after the change window on {when}.",
        ),
    ),
    "chat-email-cobrowse": (
        (
            "Emails from customers arrive hours late in the {queue} queue",
            "Emails sent by customers reach agents 2 to 4 hours late. Example sent at "
            "{when}. About {n} emails affected today.",
        ),
        (
            "Co-browse session shows a blank page",
            "When an agent starts co-browse on the checkout page the customer sees a blank "
            "page. Other pages work. Browser: {browser}.",
        ),
        (
            "Chat transcripts not attached to the contact record",
            "Since {when} chat transcripts of the {queue} queue are missing from the contact "
            "history. Agents cannot see previous conversations.",
        ),
    ),
    "configuration-environment": (
        (
            "Cannot save skill changes in the configuration environment",
            "Saving a skill change for agents in {site} fails with 'Validation error 500'. "
            "It worked until {when}. We need to move {n} agents to the {queue} skill.",
        ),
        (
            "New agents not visible in the agent list",
            "We created {n} agents for the {site} site yesterday. They do not appear in the "
            "agent list, so we cannot assign them to the {queue} queue.",
        ),
    ),
    "ivr": (
        (
            "IVR plays the wrong greeting for {site} callers",
            "Callers to the {site} number hear the holiday greeting on a normal working "
            "day. Example call at {when}. Reproducible by calling the main number.",
        ),
        (
            "Callers stuck in the IVR menu loop",
            "Some callers pressing 2 in the main menu return to the main menu instead of "
            "reaching {queue}. About {n} calls an hour since {when}.",
        ),
        (
            "Speech recognition does not understand account numbers",
            "The IVR asks callers to repeat their account number three times and then "
            "drops them to an agent. Started {when}, roughly {n} callers affected.",
        ),
    ),
    "network": (
        (
            "One-way audio for agents in {site}",
            "Agents in {site} hear the caller but the caller cannot hear them. About {n} "
            "agents affected, reproducible on most calls since {when}.",
        ),
        (
            "Choppy audio and dropped calls over VPN",
            "Home-based agents on the VPN report choppy audio and dropped calls between "
            "10:00 and 12:00. Packet loss visible on our side is under 1%.",
        ),
    ),
    "outbound": (
        (
            "Outbound campaign stops dialing after 10 minutes",
            "The '{queue} follow-up' campaign dials for about 10 minutes and then stops "
            "although {n} records are left. Restarting it helps briefly.",
        ),
        (
            "Wrong caller ID shown on outbound calls",
            "Customers see an unknown number instead of our {site} caller ID on outbound "
            "calls. Example call at {when}, agent {agent}.",
        ),
        (
            "Do-not-call list not applied to the new campaign",
            "Records on our do-not-call list were dialled by the new campaign on {when}. "
            "This is urgent for compliance.",
        ),
    ),
    "reporting": (
        (
            "Abandoned calls in the daily report do not match real time",
            "The daily report shows {n} abandoned calls for {queue} on {when}, the real-time "
            "dashboard showed about half as many. Which one is right?",
        ),
        (
            "Scheduled report not delivered by email",
            "Our weekly service level report for {site} was not delivered this Monday. The "
            "schedule is unchanged. Supervisor: {agent}.",
        ),
        (
            "Dashboard widget shows no data",
            "The 'Agents in state' widget is empty for all supervisors in {site} since "
            "{when}. Other widgets work. Browser: {browser}.",
        ),
    ),
    "routing": (
        (
            "Calls to {queue} routed to the wrong site",
            "Since {when} calls to the {queue} queue are routed to {site} agents who do not "
            "have the skill. About {n} misrouted calls today.",
        ),
        (
            "Priority customers wait in the normal queue",
            "VIP callers (identified by ANI) no longer get priority routing and wait in the "
            "normal {queue} queue. Example call at {when}.",
        ),
        (
            "Calls drop after a blind transfer to {queue}",
            "When agents blind-transfer to {queue} the call drops after the first ring. "
            "Consult transfers work. Around {n} calls affected since {when}.",
        ),
    ),
    "telephony": (
        (
            "Agents cannot make external calls from {site}",
            "Dialling an external number from the {site} agent phones gives a fast busy "
            "tone. Internal calls work. {n} agents affected since {when}.",
        ),
        (
            "Inbound calls ring but cannot be answered",
            "Agents see the call ringing but 'Answer' does nothing; the call then goes to "
            "the next agent. Reproducible for agent {agent}.",
        ),
        (
            "Echo on calls through the {site} trunk",
            "Callers and agents hear an echo on calls that use the {site} trunk. It started "
            "after our carrier maintenance on {when}.",
        ),
    ),
    "workforce-management": (
        (
            "Forecast for next week is empty",
            "The forecast for the {queue} queue shows zero volume for next week. Historical "
            "data is there. Steps: open Forecasts, select {queue}, next week.",
        ),
        (
            "Schedule changes not visible to agents",
            "Agents in {site} do not see schedule changes that supervisor {agent} published "
            "on {when}. Browser: {browser}.",
        ),
        (
            "Adherence shows agents out of adherence while on break",
            "Adherence marks {n} agents in {site} out of adherence during their scheduled "
            "breaks since {when}.",
        ),
    ),
}

SERVICE_REQUESTS: dict[str, tuple[tuple[str, str], ...]] = {
    SubType.ADD_REMOVE_ACCESS: (
        (
            "Remove access for {agent}",
            "{agent} left the company on {when}. Please remove their access to the "
            "reporting and recording tools.",
        ),
        (
            "Access to recordings for the {site} quality team",
            "Please give the {n} quality analysts in {site} read access to call recordings.",
        ),
    ),
    SubType.PASSWORD_RESET: (
        (
            "Password reset for supervisor {agent}",
            "Supervisor {agent} is locked out after too many attempts. Please reset the password.",
        ),
    ),
    SubType.CHANGE_REQUEST: (
        (
            "Change opening hours of the {queue} queue",
            "From next Monday the {queue} queue opens at 07:00 instead of 08:00 local time "
            "in {site}. Please update the schedule and the IVR greeting.",
        ),
        (
            "Add a new skill for {queue} escalations",
            "We need a new skill '{queue} escalation' for {n} agents, routed before the "
            "normal {queue} skill.",
        ),
    ),
    SubType.NEW_PROJECT_REQUEST: (
        (
            "New contact center site in {site}",
            "We are opening a site in {site} with {n} agents in three months and would like "
            "to plan the set-up with you.",
        ),
    ),
}

ADMIN_TOPICS: tuple[tuple[str, str, str], ...] = (
    (
        SubType.QUESTION,
        "Question about our invoice for last month",
        "The invoice lists {n} more concurrent agent licences than we had. Can you explain?",
    ),
    (
        SubType.REQUEST,
        "Please add a second billing contact",
        "Please add our finance team as a second billing contact for the {site} deployment.",
    ),
    (
        SubType.PROBLEM,
        "Portal shows the wrong support level",
        "The portal shows our organization at the wrong support level since {when}.",
    ),
)

PRIVACY_TOPICS: tuple[tuple[str, str], ...] = (
    (
        "Delete recordings of a customer (erasure request)",
        "A customer asked us to erase their data. Please delete all recordings and chat "
        "transcripts for the phone number we will send on request. Our reference: DPR-{n}.",
    ),
    (
        "Export all data held about a caller",
        "We received a subject access request. Please export the contact history of the "
        "caller identified in our reference DPR-{n}.",
    ),
)

IMPACTS = (
    "{n} agents cannot take calls; customers wait longer.",
    "Supervisors cannot monitor service levels for {queue}.",
    "Some customers are not reached; we risk missing our service level.",
    "Minor: a workaround exists but costs agents time.",
    "Compliance risk until this is fixed.",
)

CARE_TAKE = (
    "Thank you for reporting this. I am looking into it and will update you shortly.",
    "Hello, I have taken your case and am checking the platform logs for {when}.",
    "Thanks for the details. We are investigating with the {service} team.",
)
CARE_ASK = (
    "Could you send two example calls (time, ANI and DNIS) from the last 12 hours?",
    "Could you tell us whether this happens on every PC or only some? A browser log would help.",
    "Please confirm the agent IDs affected and the time zone of the examples.",
    "Can you send a screenshot of the error and the exact time it was taken?",
)
CUSTOMER_ANSWER = (
    "Here are two examples: {when} from +1 555 0142, and 20 minutes later from +1 555 0177.",
    "It happens on every PC in {site}; the browser log is attached to our internal ticket.",
    "Affected agents: {agent} and {n} others, all in {site}. Times are local.",
    "Screenshot taken at {when}; the error says 'Request failed (503)'.",
)
CARE_PROGRESS = (
    "We can reproduce the issue and have involved engineering.",
    "Engineering found a configuration difference on the {site} cluster and is testing a fix.",
    "Still investigating: the logs for your examples show a timeout between two services.",
    "A fix is being prepared; I will update you once it is deployed.",
)
CUSTOMER_CHASE = (
    "Any news? The issue is still happening for {n} agents.",
    "Thanks. It happened again at {when}.",
    "Our supervisors ask for an estimate, can you give one?",
    "We noticed it is worse in the morning between 9 and 11.",
)
CARE_RESTORED = (
    "We applied a workaround on the {site} cluster; the service works again. A permanent fix "
    "will follow.",
    "Service is restored after a restart of the affected component. We keep the case open for "
    "the root cause analysis.",
)
CARE_RCA = (
    "Root cause: a certificate rotation on {when} left one media server with an old "
    "certificate. We added a check to the rotation job.",
    "Root cause: a configuration change on {when} reduced a connection pool; it has been "
    "reverted and the change process updated.",
)
CARE_SOLUTION = (
    "The fix was deployed. Could you check and confirm the issue is solved?",
    "We corrected the configuration for the {queue} queue. Please confirm it works for you.",
    "The change you asked for is done and active since {when}.",
    "Here is the explanation you asked for: the difference comes from how abandoned calls "
    "under 5 seconds are counted.",
)
CUSTOMER_CONFIRM = (
    "Confirmed, it works again. Thank you!",
    "Works for us, thanks for the quick help.",
)
CUSTOMER_CANCEL = (
    "We found the cause on our side, please close this case.",
    "Not needed any more, thank you.",
)
CARE_REDIRECT = (
    "This concerns your carrier, not our platform. Please contact them with the examples "
    "above; we can join a call if needed.",
    "This request is handled by your account manager; I have forwarded it.",
)
CARE_RESOLVE = (
    "As the fix works and we did not hear back, we are closing the case. Reopen it within "
    "30 days if needed.",
)
INTERNAL_NOTES = (
    "Checked the media server logs: errors start at the time the customer gave.",
    "Customer has had this twice this quarter; consider a problem record.",
    "Engineering ticket created; waiting for the on-call engineer.",
    "Talked to the account manager: the customer is renewing next month, handle with care.",
)

AGENTS = ("Maria Lopez", "Tom Becker", "Priya Shah", "Ken Ito", "Lena Novak", "Omar Haddad")

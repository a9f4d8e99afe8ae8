from django.apps import AppConfig


class EscalationsConfig(AppConfig):
    name = "escalations"
    verbose_name = "Escalations"

    def ready(self) -> None:
        # The case history (portal and care workspace) names an escalation's state and
        # reason in words; cases sits below this app, so this app tells it the words.
        # Models are importable only once the app registry is ready: hence the imports here.
        from cases.history_display import add_value_words, choice_words
        from escalations.models import Reason, State

        add_value_words(
            {"state": choice_words(State.choices), "reason": choice_words(Reason.choices)}
        )

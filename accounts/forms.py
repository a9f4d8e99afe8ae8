from django import forms
from django.contrib.auth.forms import AuthenticationForm

from accounts.models import PIN_DIGITS, User
from core.textclean import clean_line


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )

    error_messages = {
        "invalid_login": "That email and password do not match an active account. "
        "Passwords are case-sensitive.",
        "inactive": "This account is inactive. Ask a designated contact of your organization.",
    }


class ProfileForm(forms.ModelForm):
    new_pin = forms.CharField(
        label="New PIN",
        required=False,
        min_length=4,
        max_length=8,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "inputmode": "numeric"}),
        help_text="4 to 8 digits, for the mobile app and the phone. Leave empty to keep yours.",
    )
    confirm_pin = forms.CharField(
        label="Repeat the new PIN",
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "inputmode": "numeric"}),
    )

    class Meta:
        model = User
        fields = ["display_name", "phone", "time_zone", "email_all_cases"]
        help_texts = {"time_zone": "For example Europe/Berlin. Empty: your organization's zone."}
        error_messages = {"display_name": {"required": "Enter the name care should call you by."}}

    def clean_display_name(self) -> str:
        name = clean_line(self.cleaned_data["display_name"])
        if not name:
            raise forms.ValidationError("Enter the name care should call you by.")
        return name

    def clean_new_pin(self) -> str:
        pin = self.cleaned_data.get("new_pin", "")
        if pin and not PIN_DIGITS.fullmatch(pin):
            raise forms.ValidationError("The PIN must be digits only (0 to 9).")
        return pin

    def clean(self) -> dict:
        data = super().clean()
        if data.get("new_pin") and data.get("new_pin") != data.get("confirm_pin"):
            self.add_error("confirm_pin", "The two PINs differ.")
        return data

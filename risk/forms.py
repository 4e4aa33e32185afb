"""Forms of the CRAM. They parse and show; the rules live in risk.services."""
from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from cram_site.models import Officer
from referrals.forms import DATETIME_WIDGET, OfficerChoiceField

from . import services
from .models import (
    Answer,
    AnswerValue,
    Assessment,
    AssessmentKind,
    CheckSystem,
    MeasureKind,
    MeasureStatus,
    Quality,
    Rating,
    Section,
    SignOffDecision,
)


class StartAssessmentForm(forms.Form):
    kind = forms.ChoiceField(choices=AssessmentKind.choices, label="Kind of assessment")


class AssessmentForm(forms.Form):
    """Every factor answered yes / no / not known, with a note and its source; then the rating."""

    revision = forms.IntegerField(widget=forms.HiddenInput)
    rating = forms.ChoiceField(choices=Rating.choices, widget=forms.RadioSelect, required=False,
                               label="Rating")
    rating_rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                       label="Rationale for the rating",
                                       help_text="Required when the rating differs from the matrix's suggestion.")
    decisions = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                label="Decisions (route, strategy discussion, joint visit, medical, police protection)")

    def __init__(self, *args: Any, assessment: Assessment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.assessment = assessment
        self.answers: list[Answer] = list(assessment.answers.all())
        for answer in self.answers:
            self.fields[f"answer-{answer.code}"] = forms.ChoiceField(
                choices=AnswerValue.choices, widget=forms.RadioSelect, required=False, label=answer.question,
                initial=answer.value)
            self.fields[f"note-{answer.code}"] = forms.CharField(required=False, initial=answer.note,
                                                                 label="Note", widget=forms.TextInput(attrs={"placeholder": "Note", "class": "form-control form-control-sm"}))
            self.fields[f"source-{answer.code}"] = forms.CharField(required=False, initial=answer.source,
                                                                   label="Source", max_length=200)
        self.fields["revision"].initial = assessment.revision
        self.fields["rating"].initial = assessment.rating
        self.fields["rating_rationale"].initial = assessment.rating_rationale
        self.fields["decisions"].initial = assessment.decisions

    def sections(self) -> list[dict[str, Any]]:
        """The factors grouped by section, each with its three bound fields, for the template."""
        groups: dict[str, dict[str, Any]] = {}
        for answer in self.answers:
            group = groups.setdefault(answer.section, {"title": Section(answer.section).label, "rows": []})
            group["rows"].append({
                "answer": answer,
                "value": self[f"answer-{answer.code}"],
                "note": self[f"note-{answer.code}"],
                "source": self[f"source-{answer.code}"],
            })
        return list(groups.values())

    def answer_inputs(self) -> dict[str, services.AnswerInput]:
        return {answer.code: services.AnswerInput(
            value=self.cleaned_data.get(f"answer-{answer.code}") or "",
            note=self.cleaned_data.get(f"note-{answer.code}") or "",
            source=self.cleaned_data.get(f"source-{answer.code}") or "",
        ) for answer in self.answers}


class MeasureForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "Choose a measure")] + MeasureKind.choices, label="Control measure")
    description = forms.CharField(max_length=300, required=False, label="Details")
    owner_agency = forms.CharField(max_length=120, required=False, label="Owner agency")
    status = forms.ChoiceField(choices=MeasureStatus.choices, initial=MeasureStatus.ACTIVE)
    factor_codes = forms.MultipleChoiceField(choices=[], required=False, widget=forms.CheckboxSelectMultiple,
                                             label="Risk factors it manages")

    def __init__(self, *args: Any, factor_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["factor_codes"].choices = factor_choices


class PlannedActionForm(forms.Form):
    description = forms.CharField(max_length=300, label="Action")
    owner = OfficerChoiceField(queryset=Officer.objects.none(), label="Owner")
    due_at = forms.DateTimeField(widget=DATETIME_WIDGET, label="Due")

    def __init__(self, *args: Any, team_id: int, owner_choices: list[tuple[Any, str]] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = Officer.objects.filter(team_id=team_id, is_active=True)
        if owner_choices is not None:
            self.fields["owner"].choices = owner_choices

    @classmethod
    def owner_choices(cls, team_id: int) -> list[tuple[Any, str]]:
        """The owners offered, read once and shared by every row of a formset (else one query a row)."""
        return list(cls(team_id=team_id).fields["owner"].choices)


MeasureFormSet = forms.formset_factory(MeasureForm, extra=1, max_num=40, validate_max=True)
PlannedActionFormSet = forms.formset_factory(PlannedActionForm, extra=1, max_num=40, validate_max=True)


def measure_inputs(formset: forms.BaseFormSet) -> list[services.MeasureInput]:
    return [services.MeasureInput(kind=form.cleaned_data["kind"], description=form.cleaned_data["description"],
                                  owner_agency=form.cleaned_data["owner_agency"],
                                  status=form.cleaned_data["status"],
                                  factor_codes=form.cleaned_data["factor_codes"])
            for form in formset.forms if form.has_changed() and form.cleaned_data.get("kind")]


def planned_action_inputs(formset: forms.BaseFormSet) -> list[services.PlannedActionInput]:
    return [services.PlannedActionInput(description=form.cleaned_data["description"],
                                        owner=form.cleaned_data["owner"], due_at=form.cleaned_data["due_at"])
            for form in formset.forms if form.has_changed() and form.cleaned_data]


class SystemsCheckForm(forms.Form):
    system = forms.ChoiceField(choices=CheckSystem.choices)
    subject = forms.CharField(max_length=200, required=False, label="Who or what was checked")
    checked_at = forms.DateTimeField(widget=DATETIME_WIDGET, label="Checked at")
    result = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Result")
    anything_new = forms.BooleanField(required=False, label="Anything new since the previous check")
    closes = forms.ModelMultipleChoiceField(queryset=Answer.objects.none(), required=False,
                                            widget=forms.CheckboxSelectMultiple,
                                            label="Intelligence gaps this check answers")

    def __init__(self, *args: Any, gaps: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["closes"].queryset = gaps
        self.fields["closes"].label_from_instance = lambda answer: answer.question

    def clean_checked_at(self) -> dt.datetime:
        value = self.cleaned_data["checked_at"]
        if value > timezone.now():
            raise ValidationError("A check cannot be made in the future.")
        return value


class SignOffForm(forms.Form):
    decision = forms.ChoiceField(choices=SignOffDecision.choices, widget=forms.RadioSelect)
    rating_justified = forms.ChoiceField(choices=Quality.choices, widget=forms.RadioSelect,
                                         label="Is the rating justified?")
    gaps_addressed = forms.ChoiceField(choices=Quality.choices, widget=forms.RadioSelect,
                                       label="Are the intelligence gaps being addressed?")
    measures_adequate = forms.ChoiceField(choices=Quality.choices, widget=forms.RadioSelect,
                                          label="Are the control measures adequate?")
    actions_timely = forms.ChoiceField(choices=Quality.choices, widget=forms.RadioSelect,
                                       label="Are the actions timely?")
    comments = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class FactorForm(forms.Form):
    code = forms.SlugField(max_length=60, help_text="A short stable name, e.g. suspect_new_partner.")
    section = forms.ChoiceField(choices=Section.choices)
    question = forms.CharField(max_length=300)
    help_text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    weight = forms.IntegerField(min_value=0, max_value=20)
    contextual = forms.BooleanField(required=False,
                                    help_text="Recorded and shown, never raising the rating by itself.")
    closing_check = forms.ChoiceField(choices=[("", "None")] + CheckSystem.choices, required=False,
                                      label="Check that would answer it")
    retire = forms.BooleanField(required=False, label="Retire this factor from the catalogue")
    note = forms.CharField(max_length=300, label="What changed and why")

    def fields_value(self) -> services.FactorFields:
        data = self.cleaned_data
        return services.FactorFields(section=data["section"], question=data["question"],
                                     help_text=data["help_text"], weight=data["weight"],
                                     contextual=data["contextual"], closing_check=data["closing_check"])

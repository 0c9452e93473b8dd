"""Plans over time: the cheapest scaling schedule whose replay meets the SLOs in every window
(:func:`plan_schedule`). Pure."""

from pdplan.plan.schedule.plan import SchedulePlan, StepRow, plan_schedule, replay_schedule

__all__ = ["SchedulePlan", "StepRow", "plan_schedule", "replay_schedule"]

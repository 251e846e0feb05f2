"""Product families: functions from the observation cube to labelled layers."""

from .base import ProductPeriod, period_label, whole_and_yearly_periods

__all__ = ["ProductPeriod", "period_label", "whole_and_yearly_periods"]

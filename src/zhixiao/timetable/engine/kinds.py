"""The constraint kinds the engine knows, with their parameters.

Names follow FET (its XML element without the `Constraint` prefix) so that FET files map one to one;
kinds FET has no word for are marked *ours*. Parameters, by name:

- `slots`: list of (day, period) pairs, 0-based.
- `activities`: list of activity ids; `activity`: one id.
- `teacher`, `students` (a student set name), `subject`, `tag`, `room`: names as in the problem.
- A *filter* (for `Activities…` and `Subactivities…` kinds) is any of `teacher`, `students`, `subject`,
  `tag` (None or missing = any) plus an optional `duration`; an activity matches when it has that teacher,
  has students overlapping that set (FET: the set or any set inside it), that subject and that tag.
- `rooms`: list of room names.

Every kind may carry `weight` < 100 (soft), except `BreakTimes` (as in FET). A hard kind must hold in every
timetable; a soft one costs its weight per broken instance (a day, a lesson, a time), priced as the checker
prices it, and the solver minimises the sum after the first complete timetable.
"""

from __future__ import annotations

# kind -> parameter names (documentation and importer/solver agreement)
TIME_KINDS: dict[str, tuple[str, ...]] = {
    "BasicCompulsoryTime": (),
    "BreakTimes": ("slots",),
    "TeacherNotAvailableTimes": ("teacher", "slots"),
    "StudentsSetNotAvailableTimes": ("students", "slots"),
    "ActivityPreferredStartingTime": ("activity", "day", "period", "locked"),  # day/period may be None
    "ActivityPreferredStartingTimes": ("activity", "slots"),
    "ActivityPreferredTimeSlots": ("activity", "slots"),
    "ActivitiesPreferredStartingTimes": ("filter", "slots"),
    "ActivitiesPreferredTimeSlots": ("filter", "slots"),
    "SubactivitiesPreferredStartingTimes": ("filter", "component", "slots"),  # component: 1-based
    "SubactivitiesPreferredTimeSlots": ("filter", "component", "slots"),
    "MinDaysBetweenActivities": ("activities", "min_days", "consecutive_if_same_day"),
    "MaxDaysBetweenActivities": ("activities", "max_days"),
    "MinGapsBetweenActivities": ("activities", "min_gaps"),
    "ActivitiesSameStartingTime": ("activities",),
    "ActivitiesSameStartingDay": ("activities",),
    "ActivitiesSameStartingHour": ("activities",),
    "ActivitiesNotOverlapping": ("activities",),
    "TwoActivitiesConsecutive": ("first", "second"),
    "TwoActivitiesGrouped": ("first", "second"),
    "ThreeActivitiesGrouped": ("first", "second", "third"),
    "ActivityEndsStudentsDay": ("activity",),
    "ActivitiesEndStudentsDay": ("filter",),
    "ActivitiesOccupyMaxTimeSlotsFromSelection": ("activities", "slots", "max"),
    "ActivitiesMaxSimultaneousInSelectedTimeSlots": ("activities", "slots", "max"),
    "ActivitiesMinSimultaneousInSelectedTimeSlots": ("activities", "slots", "min", "allow_empty"),
    # teachers: `teacher` None = every teacher (FET's Teachers… kinds map here with teacher=None)
    "TeacherMaxHoursDaily": ("teacher", "max"),
    "TeacherMinHoursDaily": ("teacher", "min", "allow_empty"),
    "TeacherMaxDaysPerWeek": ("teacher", "max"),
    "TeacherMinDaysPerWeek": ("teacher", "min"),
    "TeacherMaxGapsPerDay": ("teacher", "max"),
    "TeacherMaxGapsPerWeek": ("teacher", "max"),
    "TeacherMaxHoursContinuously": ("teacher", "max"),
    "TeacherActivityTagMaxHoursDaily": ("teacher", "tag", "max"),
    "TeacherActivityTagMaxHoursContinuously": ("teacher", "tag", "max"),
    "TeacherIntervalMaxDaysPerWeek": ("teacher", "start", "end", "max"),  # periods [start, end)
    # students: `students` None = every atomic set (FET's Students… kinds map here with students=None)
    "StudentsSetMaxHoursDaily": ("students", "max"),
    "StudentsSetMinHoursDaily": ("students", "min", "allow_empty"),
    "StudentsSetMaxGapsPerDay": ("students", "max"),
    "StudentsSetMaxGapsPerWeek": ("students", "max"),
    "StudentsSetEarlyMaxBeginningsAtSecondHour": ("students", "max"),
    "StudentsSetIntervalMaxDaysPerWeek": ("students", "start", "end", "max"),
    "StudentsSetActivityTagMaxHoursDaily": ("students", "tag", "max"),
    "StudentsSetActivityTagMaxHoursContinuously": ("students", "tag", "max"),
    "StudentsSetMaxHoursContinuously": ("students", "max"),
    # ours
    "ActivitiesMaxPerDay": ("activities", "max"),  # at most k of these lessons a day (a subject for a class)
    "TeacherBalancedDays": ("teacher",),  # spread a teacher's lessons evenly over the days worked
}

SPACE_KINDS: dict[str, tuple[str, ...]] = {
    "BasicCompulsorySpace": (),
    "RoomNotAvailableTimes": ("room", "slots"),
    "ActivityPreferredRoom": ("activity", "room", "locked", "real_rooms"),  # real_rooms: a virtual room's lock
    "ActivityPreferredRooms": ("activity", "rooms"),
    "SubjectPreferredRooms": ("subject", "rooms"),
    "ActivityTagPreferredRooms": ("tag", "rooms"),
    "SubjectActivityTagPreferredRooms": ("subject", "tag", "rooms"),
    "StudentsSetHomeRooms": ("students", "rooms"),
    "TeacherHomeRooms": ("teacher", "rooms"),
    "ActivitiesOccupyMaxDifferentRooms": ("activities", "max"),
    "ActivitiesSameRoomIfConsecutive": ("activities",),
}

KINDS: dict[str, tuple[str, ...]] = {**TIME_KINDS, **SPACE_KINDS}

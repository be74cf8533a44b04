"""What a solve returns (plain data, JSON-ready)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .model import Placement, Solution, Violation


@dataclass
class Progress:
    """One report from a running solve: for a progress bar and a live cost."""

    seconds: float
    time_limit: float
    solutions: int
    soft_cost: float | None  # best so far (None before the first complete timetable)
    bound: float | None = None

    @property
    def fraction(self) -> float:
        # a running solve is never done: a last solution found as the time limit runs out is not 100 %
        return min(0.99, self.seconds / self.time_limit) if self.time_limit else 0.0


@dataclass
class Result:
    solved: bool  # a complete timetable with every hard constraint
    status: str  # optimal / feasible / infeasible / timeout / invalid
    seconds: float
    first_solution_seconds: float | None
    activities: int
    placed: int
    solution: Solution | None = None
    hard_violations: list[Violation] = field(default_factory=list)
    soft_violations: list[Violation] = field(default_factory=list)
    soft_cost: float = 0.0
    first_soft_cost: float = 0.0  # the first complete timetable's, before the soft phase
    first_soft_broken: int = 0
    explanation: list[str] = field(default_factory=list)  # why no timetable exists, in the school's terms
    moved: list[dict[str, Any]] = field(default_factory=list)  # repair mode: what moved, from where to where
    unsupported_constraints: list[str] = field(default_factory=list)
    seed: int = 0
    workers: int = 1

    @property
    def soft_broken(self) -> int:
        return len(self.soft_violations)

    def report(self) -> dict[str, Any]:
        return {
            "solved": self.solved,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "first_solution_seconds": None
            if self.first_solution_seconds is None
            else round(self.first_solution_seconds, 3),
            "hard_violations": [v.as_dict() for v in self.hard_violations],
            "soft_cost": round(self.soft_cost, 3),
            "soft_broken": self.soft_broken,
            "first_soft_cost": round(self.first_soft_cost, 3),
            "first_soft_broken": self.first_soft_broken,
            "soft_violations": [v.as_dict() for v in self.soft_violations],
            "activities": self.activities,
            "placed": self.placed,
            "unsupported_constraints": self.unsupported_constraints,
            "explanation": self.explanation,
            "moved": self.moved,
            "seed": self.seed,
            "workers": self.workers,
        }


def placements_to_json(solution: Solution) -> dict[str, list[Any]]:
    return {str(a): [p.day, p.period, list(p.rooms)] for a, p in solution.placements.items()}


def placements_from_json(data: dict[str, list[Any]]) -> Solution:
    return Solution(
        {int(a): Placement(int(v[0]), int(v[1]), tuple(v[2] if len(v) > 2 else ())) for a, v in data.items()}
    )

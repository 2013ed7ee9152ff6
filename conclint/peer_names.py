"""The names ruff gives the peers' codes (`Rule.peers`), which its suppression comments may
spell instead of the code (`# ruff: ignore[asyncio-dangling-task]` for RUF006). flake8-async
names none of its codes this way."""

RUFF_NAMES = {
    "asyncio-dangling-task": "RUF006",
    "async-busy-wait": "ASYNC110",
    "blocking-http-call-httpx-in-async-function": "ASYNC212",
    "blocking-http-call-in-async-function": "ASYNC210",
    "blocking-input-in-async-function": "ASYNC250",
    "blocking-open-call-in-async-function": "ASYNC230",
    "blocking-path-method-in-async-function": "ASYNC240",
    "blocking-sleep-in-async-function": "ASYNC251",
    "cancel-scope-no-checkpoint": "ASYNC100",
    "create-subprocess-in-async-function": "ASYNC220",
    "run-process-in-async-function": "ASYNC221",
    "trio-sync-call": "ASYNC105",
    "useless-with-lock": "PLW2101",
    "wait-for-process-in-async-function": "ASYNC222",
    "yield-in-context-manager-in-async-generator": "ASYNC119",
}

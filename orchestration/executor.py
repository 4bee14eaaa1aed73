import dagster as dg

#: Each step in its own process, forked from a server that has already imported the definitions and the
#: instance's storage: a spawned step process re-imports them (seconds a step: GX, Presidio, scipy).
forkserver_multiprocess_executor = dg.multiprocess_executor.configured(
    {
        "start_method": {
            "forkserver": {
                "preload_modules": [
                    "orchestration.definitions",
                    "dagster._core.storage.sqlite_storage",
                    "dagster._core.storage.event_log",
                    "dagster._core.storage.runs",
                ]
            }
        }
    },
    name="forkserver_multiprocess_executor",
)

"""One worker of a shared Optuna study: what each process (or each machine) runs.

It loads the study that the notebook created in the shared storage, takes trials from it until the study has
--max-trials of them (a fast worker takes more), and logs every trial as an MLflow child run of the study's
parent run. The storage URL comes from STORAGE_URL and MLflow's tracking URI from MLFLOW_TRACKING_URI, both in the
environment: a database URL holds a password, which a command line would show to every user of the machine.

    STORAGE_URL=... python tune_worker.py --study-name NAME --parent-run-id ID --experiment-id ID \
        --worker-index I --max-trials N --seed S --iterations T --thread-count C
"""

import argparse

import mlflow
import optuna
from optuna.study import MaxTrialsCallback

import tutorial_utils as tu
from tutorial_utils.datasets import split_datasets
from tutorial_utils.parallel_tuning import COUNTED, worker_storage
from tutorial_utils.tuning import catboost_regressor, suggest_catboost_params

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
for name in ("study-name", "parent-run-id", "experiment-id"):
    parser.add_argument(f"--{name}", required=True)
for name in ("worker-index", "max-trials", "seed", "iterations", "thread-count"):
    parser.add_argument(f"--{name}", type=int, required=True)
args = parser.parse_args()

optuna.logging.set_verbosity(optuna.logging.WARNING)
splits = tu.load_splits()
X_train, y_train = tu.catboost_features(splits.train), tu.log_price(splits.train)
X_val, y_val = tu.catboost_features(splits.val), tu.log_price(splits.val)
datasets = split_datasets(splits)  # recorded on each trial's run, as in notebook 04

# each worker its own sampler seed: with one seed, all workers would propose the very same points
sampler_seed = args.seed + args.worker_index
study = optuna.load_study(
    study_name=args.study_name,
    storage=worker_storage(),  # open_storage($STORAGE_URL)
    sampler=optuna.samplers.TPESampler(seed=sampler_seed),
)


def objective(trial):
    trial.set_user_attr("worker", args.worker_index)
    params = suggest_catboost_params(trial)
    with mlflow.start_run(
        run_name=f"trial-{trial.number:02d}",
        experiment_id=args.experiment_id,
        parent_run_id=args.parent_run_id,  # a child of the study's parent run, though started in another process
        tags={"worker": str(args.worker_index)},
    ):
        mlflow.log_input(datasets["train"], context="training")
        mlflow.log_input(datasets["val"], context="validation")
        mlflow.log_params(
            {
                **params,
                "iterations": args.iterations,
                "trial_number": trial.number,
                "sampler_seed": sampler_seed,
                "thread_count": args.thread_count,
            }
        )
        model = catboost_regressor(params, args.iterations, seed=args.seed, thread_count=args.thread_count)
        model.fit(X_train, y_train)
        val_rmse = tu.rmse(y_val, model.predict(X_val))
        mlflow.log_metrics({"val_rmse": val_rmse}, dataset=datasets["val"])
    return val_rmse


# after each trial, stop once the study has max_trials trials running or finished (from every worker; a FAIL trial
# does not count, so another takes its place); checked before the first trial too, for a worker that starts when
# the others have already taken them all
if len(study.get_trials(deepcopy=False, states=COUNTED)) < args.max_trials:
    study.optimize(objective, callbacks=[MaxTrialsCallback(args.max_trials, states=COUNTED)])
mine = [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get("worker") == args.worker_index]
print(f"worker {args.worker_index}: {len(mine)} trials done")

"""What ties our code into Rasa and rasa_sdk.

  bootstrap      every patch of Rasa, rasa_sdk and logging the project installs, in one place
  speedups       the Rasa server's hot path without its detours: the action-reply schema checked
                 once, the neural models' one traced TensorFlow function called directly, the
                 graphs run node by node instead of through dask, sparse features joined directly
  rasa_server    `python -m bot.rasa_ext.rasa_server`: Rasa's CLI, hardened (the launcher starts it)
  action_server  `python -m bot.rasa_ext.action_server`: rasa_sdk's action server, serving only Rasa
  model_reload   a Rasa server's readiness and reload routes (a new model without downtime)
  action_tracker what an action is sent of the conversation and the domain
  kept_connections  action calls over connections the Rasa server keeps
  gc_pauses      the loaded model frozen out of the garbage collector's full collections
  train          `python -m bot.rasa_ext.train`: `rasa train` as `make train` runs it, with
                 training_speedups (three of Rasa's training hot spots without the detours)

(The plug-ins Rasa loads by dotted path from endpoints.yml and credentials.yml
are bot.tracker_store, bot.lock_store and bot.channels; each calls
bootstrap.install().)
"""

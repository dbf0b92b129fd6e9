"""Training steps that run a whole epoch inside one TensorFlow graph.

The autoencoder and the MLP train through :func:`epoch_steps` instead of
``keras.Model.fit``, which runs Python for every batch. Both wrap the epoch
in ``tf.function``, so Python runs once per epoch.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf


def regularization_penalty(model) -> tf.Tensor:
    """Return the sum of the model's regularization losses, 0 without any."""
    losses = model.losses
    return tf.add_n(losses) if losses else tf.constant(0.0)


def epoch_steps(
    model,
    optimizer,
    n_steps: int,
    batch_size: int,
    batch_loss: Callable[[tf.Tensor], tf.Tensor],
) -> Callable[[tf.Tensor], tf.Tensor]:
    """Return a function that trains on one epoch's row order, batch by batch.

    Parameters
    ----------
    model : keras.Model
        The network to train.
    optimizer : keras.optimizers.Optimizer
        Built for ``model.trainable_variables``.
    n_steps : int
        Batches per epoch. Batch ``i`` takes rows ``order[i * batch_size :
        (i + 1) * batch_size]``, so a short order gives a short last batch.
    batch_size : int
        Rows per batch.
    batch_loss : callable
        Maps the row indices of one batch to its mean loss, computed with
        ``model(..., training=True)``. The regularization penalty is added
        here.

    Returns
    -------
    callable
        Takes the int64 row order of an epoch and returns the mean loss over
        its batches, penalty included. Meant to be called inside
        ``tf.function``.
    """

    def train_steps(order):
        total = tf.constant(0.0)
        for step in tf.range(n_steps, dtype=tf.int64):
            rows = order[step * batch_size : (step + 1) * batch_size]
            with tf.GradientTape() as tape:
                loss = batch_loss(rows) + regularization_penalty(model)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            total += loss
        return total / n_steps

    return train_steps

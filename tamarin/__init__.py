"""Tamarin theories generated from the protocol model (issue 5).

* :mod:`expat.tamarin.semantics` -- what each row of :mod:`expat.model.roles` does to messages and
  memory in the symbolic model, the guard restrictions, and the environment/adversary rules;
* :mod:`expat.tamarin.lemmas` -- one lemma per property id, sanity, sources and trace lemmas;
* :mod:`expat.tamarin.generate` -- assembles ``tamarin/expat.spthy`` (byte-stable);
* :mod:`expat.tamarin.spthy` -- a small parser of the spthy subset we generate (preprocessor included);
* :mod:`expat.tamarin.wellformed` -- what tamarin-prover reports on loading (grammar, well-formedness,
  guardedness, derivation checks), re-implemented from its sources;
* :mod:`expat.tamarin.check` -- ``expat tamarin check``: the theory matches the model one to one;
* :mod:`expat.tamarin.prove` -- ``expat prove``: runs ``tamarin-prover`` lemma by lemma.
"""

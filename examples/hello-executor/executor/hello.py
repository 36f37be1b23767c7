from docarray import DocList
from docarray.documents import TextDoc
from jina import Executor, requests


class HelloExecutor(Executor):
    """Prefix the text of every document with a greeting."""

    def __init__(self, greeting: str = "Hello", **kwargs):
        super().__init__(**kwargs)
        self.greeting = greeting

    @requests(on="/greet")
    def greet(self, docs: DocList[TextDoc], **kwargs) -> DocList[TextDoc]:
        for doc in docs:
            doc.text = f"{self.greeting}, {doc.text or 'world'}!"
        return docs

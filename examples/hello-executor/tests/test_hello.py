from docarray import DocList
from docarray.documents import TextDoc

from executor import HelloExecutor


def test_greets():
    docs = HelloExecutor(greeting="Hi").greet(DocList[TextDoc]([TextDoc(text="Ada")]))
    assert docs[0].text == "Hi, Ada!"

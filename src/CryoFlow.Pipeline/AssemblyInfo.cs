namespace CryoFlow.Pipeline;
